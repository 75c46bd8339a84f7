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
    private RoutingSource[]? _sources;
    private string[]? _mappedHeaders;

    internal DynamicSubsetRoutes(IServiceProvider services, IEnumerable<RoutedClient> clients)
    {
        _services = services;
        _clients = [.. clients.Select(static c => c.Name).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Gets each routed service and its resolver, as of now (creating a client's routing if it was not used yet).</summary>
    public IReadOnlyList<(string Service, SubsetResolver Resolver)> Services =>
        [.. Sources().SelectMany(static s => s.Resolvers).DistinctBy(static r => r.Resolver)];

    /// <summary>
    /// Gets the request headers the current policies map to keys (lower-case, distinct). Computed once and again only
    /// after a source publishes, since the propagation middleware reads it on every request.
    /// </summary>
    public IReadOnlyList<string> MappedHeaders =>
        Volatile.Read(ref _mappedHeaders) ?? (_mappedHeaders =
            [.. Services.SelectMany(static s => s.Resolver.Current.Policy.HeaderMappings).Select(static m => m.Header).Distinct(StringComparer.Ordinal)]);

    private RoutingSource[] Sources()
    {
        if (Volatile.Read(ref _sources) is { } sources)
        {
            return sources;
        }

        sources = [.. _clients.Select(name => _services.GetRequiredKeyedService<RoutingSource>(name))];
        foreach (var source in sources)
        {
            // Publish, then invalidate: a request that races the change reads the old list once.
            source.Changed += () => Volatile.Write(ref _mappedHeaders, null);
        }

        return Interlocked.CompareExchange(ref _sources, sources, null) ?? sources;
    }
}

/// <summary>Records, at registration, that a named client has dynamic subset routing.</summary>
internal sealed record RoutedClient(string Name);
