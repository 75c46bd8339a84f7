using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace DynamicSubset.Routing;

/// <summary>The services of a catalog at one moment, with a lookup by any name a request may use.</summary>
public sealed class RoutingCatalogSnapshot
{
    private readonly FrozenDictionary<string, RoutedService> _byHost;

    internal RoutingCatalogSnapshot(long version, DateTimeOffset loadedAt, ImmutableArray<RoutedService> services, RoutedService? defaultService)
    {
        Version = version;
        LoadedAt = loadedAt;
        Services = services;
        Default = defaultService;
        var byHost = new Dictionary<string, RoutedService>(StringComparer.OrdinalIgnoreCase);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var service in services)
        {
            if (!names.Add(service.Name))
            {
                throw new ArgumentException($"two services are named '{service.Name}'", nameof(services));
            }
        }

        // Full names first, so that a short name never shadows another service's own name.
        foreach (var service in services)
        {
            foreach (var host in service.Hosts)
            {
                byHost.TryAdd(host, service);
            }
        }

        foreach (var service in services)
        {
            foreach (var host in service.Hosts)
            {
                foreach (var name in ShortNames(host))
                {
                    byHost.TryAdd(name, service);
                }
            }
        }

        _byHost = byHost.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Gets the snapshot of a catalog that has published nothing yet.</summary>
    public static RoutingCatalogSnapshot Empty { get; } = new(0, DateTimeOffset.MinValue, [], null);

    /// <summary>Gets the version: 0 before the first publish, then one more per publish.</summary>
    public long Version { get; }

    /// <summary>Gets when this snapshot was published.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>Gets every routed service.</summary>
    public ImmutableArray<RoutedService> Services { get; }

    /// <summary>Gets the service for requests whose host names no service, or <see langword="null"/> when such requests are not routed.</summary>
    public RoutedService? Default { get; }

    /// <summary>
    /// Finds the service a request's host names (without its port): a service's own name, an alias (a VirtualService
    /// host), or a short name as a pod's DNS search path resolves it (<c>helloworld</c>, <c>helloworld.default</c>,
    /// <c>helloworld.default.svc</c>); otherwise <see cref="Default"/>.
    /// </summary>
    /// <param name="host">The host, for example <c>helloworld</c>.</param>
    /// <param name="service">The service.</param>
    /// <returns><see langword="true"/> if a service was found.</returns>
    public bool TryFind(string host, [NotNullWhen(true)] out RoutedService? service)
    {
        if (TryFindByName(host, out service))
        {
            return true;
        }

        service = Default;
        return service is not null;
    }

    /// <summary>Finds the service a host names, as <see cref="TryFind"/> does, but never falls back to <see cref="Default"/>.</summary>
    /// <param name="host">The host, for example <c>helloworld</c>.</param>
    /// <param name="service">The service.</param>
    /// <returns><see langword="true"/> if one of the services has that name.</returns>
    public bool TryFindByName(string host, [NotNullWhen(true)] out RoutedService? service)
    {
        ArgumentNullException.ThrowIfNull(host);
        return _byHost.TryGetValue(host.EndsWith('.') ? host.TrimEnd('.') : host, out service);
    }

    /// <summary>The names a pod's DNS search path resolves to <paramref name="host"/>.</summary>
    private static IEnumerable<string> ShortNames(string host)
    {
        const string suffix = ".svc.cluster.local";
        if (host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && host[..^suffix.Length].Split('.') is [var name, var ns])
        {
            yield return name;
            yield return $"{name}.{ns}";
            yield return $"{name}.{ns}.svc";
        }
    }
}
