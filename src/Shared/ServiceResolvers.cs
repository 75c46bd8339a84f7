using DynamicSubset.Routing.Configuration;

namespace DynamicSubset.Routing.Internal;

/// <summary>
/// One resolver per service host, kept across configurations, so that callers holding a host's resolver (and its
/// outlier state) see each new snapshot. Every service's next index is built to the side first, then all are published.
/// </summary>
/// <remarks>Linked into each catalog that compiles mesh configuration (files, cluster): shared source, not public API.</remarks>
internal sealed class ServiceResolvers(TimeProvider timeProvider)
{
    private readonly Dictionary<string, SubsetResolver> _resolvers = new(StringComparer.Ordinal);

    /// <summary>Gets the resolver of a host that has been published.</summary>
    public SubsetResolver this[string host] => _resolvers[host];

    /// <summary>Whether a host has been published.</summary>
    public bool Contains(string host) => _resolvers.ContainsKey(host);

    /// <summary>Builds every service's next snapshot, to the side: throws before anything is published.</summary>
    public List<(MeshService Service, SubsetResolver? Resolver, SubsetIndex Index)> Build(MeshConfiguration config)
    {
        var built = new List<(MeshService, SubsetResolver?, SubsetIndex)>(config.Services.Length);
        foreach (var service in config.Services)
        {
            var resolver = _resolvers.GetValueOrDefault(service.Host);
            built.Add((service, resolver, resolver is null ? service.BuildIndex() : resolver.Current.Rebuild(service.Endpoints, service.Policy)));
        }

        return built;
    }

    /// <summary>Publishes what <see cref="Build"/> made to each resolver and forgets hosts that are gone.</summary>
    /// <param name="built">What <see cref="Build"/> returned.</param>
    /// <param name="source">Where a service comes from, for operators.</param>
    /// <returns>The services, for the catalog's one swap.</returns>
    public List<RoutedService> Publish(List<(MeshService Service, SubsetResolver? Resolver, SubsetIndex Index)> built, Func<MeshService, string> source)
    {
        var services = new List<RoutedService>(built.Count);
        var pools = new Dictionary<string, RoutedService>(StringComparer.Ordinal);
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (service, existing, index) in built)
        {
            var resolver = existing;
            if (resolver is null)
            {
                _resolvers[service.Host] = resolver = new SubsetResolver(index, random: null, timeProvider);
            }
            else
            {
                resolver.Publish(index);
            }

            kept.Add(service.Host);
            var pool = new RoutedService(service.Host, resolver, service.Hosts, source(service));
            pools[service.Host] = pool;
            services.Add(pool);
        }

        // Then the entries: a service with VirtualService routes is published with them, bound to the pools above (a
        // destination holds the pool without routes, so routing never recurses).
        for (var i = 0; i < services.Count; i++)
        {
            var (service, _, _) = built[i];
            if (service.HasRoutes)
            {
                var pool = services[i];
                services[i] = new RoutedService(pool.Name, pool.Resolver, service.Hosts, pool.Origin) { Routes = service.CreateRoutes(name => pools[name]) };
            }
        }

        foreach (var gone in _resolvers.Keys.Where(k => !kept.Contains(k)).ToList())
        {
            _resolvers.Remove(gone);
        }

        return services;
    }
}
