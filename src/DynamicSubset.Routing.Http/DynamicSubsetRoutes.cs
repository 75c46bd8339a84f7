using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Every service routed by this service provider's HttpClients, with its live resolver: for debug views, and for
/// the header propagation's default header list.
/// </summary>
public sealed class DynamicSubsetRoutes
{
    private readonly IServiceProvider _services;
    private readonly string[] _clients;

    internal DynamicSubsetRoutes(IServiceProvider services, IEnumerable<RoutedClient> clients)
    {
        _services = services;
        _clients = [.. clients.Select(static c => c.Name).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Gets each routed service and its resolver, as of now (creating a client's routing if it was not used yet).</summary>
    public IReadOnlyList<(string Service, SubsetResolver Resolver)> Services =>
        [.. _clients.SelectMany(name => _services.GetRequiredKeyedService<RoutingSource>(name).Resolvers).DistinctBy(static r => r.Resolver)];

    /// <summary>Gets the request headers the current policies map to keys (lower-case, distinct).</summary>
    public IReadOnlyList<string> MappedHeaders =>
        [.. Services.SelectMany(static s => s.Resolver.Current.Policy.HeaderMappings).Select(static m => m.Header).Distinct(StringComparer.Ordinal)];
}

/// <summary>Records, at registration, that a named client has dynamic subset routing.</summary>
internal sealed record RoutedClient(string Name);
