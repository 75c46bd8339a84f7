using System.Collections.Immutable;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// One resolver per service host, kept across configurations, so that callers holding a host's resolver (and its
/// outlier state) see each new snapshot. Every source that compiles mesh configuration (the files, the cluster) builds
/// each service's next index to the side with <see cref="Build"/>, then publishes all of them with <see cref="Publish"/>.
/// </summary>
/// <remarks>Not thread-safe: one writer, the source.</remarks>
public sealed class MeshServiceResolvers
{
    private readonly Dictionary<string, SubsetResolver> _resolvers = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;

    /// <summary>Initializes a new instance of the <see cref="MeshServiceResolvers"/> class.</summary>
    /// <param name="timeProvider">The clock of the resolvers' outlier detection; <see langword="null"/> for the system clock.</param>
    public MeshServiceResolvers(TimeProvider? timeProvider = null) => _timeProvider = timeProvider ?? TimeProvider.System;

    /// <summary>Gets the resolver of a host that has been published.</summary>
    /// <param name="host">The service's host.</param>
    /// <returns>The resolver.</returns>
    /// <exception cref="KeyNotFoundException">The host has not been published.</exception>
    public SubsetResolver this[string host] => _resolvers[host];

    /// <summary>Whether a host has been published.</summary>
    /// <param name="host">The service's host.</param>
    /// <returns><see langword="true"/> if it has.</returns>
    public bool Contains(string host) => _resolvers.ContainsKey(host);

    /// <summary>Builds every service's next snapshot, to the side: throws before anything is published.</summary>
    /// <param name="config">The compiled configuration.</param>
    /// <returns>What <see cref="Publish"/> takes.</returns>
    public MeshServiceBuild Build(MeshConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var built = new List<(MeshService, SubsetResolver?, SubsetIndex)>(config.Services.Length);
        foreach (var service in config.Services)
        {
            var resolver = _resolvers.GetValueOrDefault(service.Host);
            built.Add((service, resolver,
                resolver is null ? service.BuildIndex()
                : Unchanged(resolver.Configured, service) ? resolver.Configured // kept: its generation and live state, and no publish
                : resolver.Current.Rebuild(service.Endpoints, service.Policy)));
        }

        return new MeshServiceBuild(built);
    }

    /// <summary>Whether a compiled service routes as its serving snapshot does: an equivalent policy and equal endpoints.</summary>
    private static bool Unchanged(SubsetIndex serving, MeshService service)
    {
        var endpoints = serving.Endpoints;
        if (endpoints.Length != service.Endpoints.Length || !serving.Policy.IsEquivalentTo(service.Policy))
        {
            return false;
        }

        // The usual case first: a compile that kept the host's endpoints (EndpointMemo) hands over the very objects the
        // snapshot holds, and in the same order when the source lists them by address. One pass, no lookups.
        if (SameObjectsInOrder(endpoints, service.Endpoints))
        {
            return true;
        }

        foreach (var endpoint in service.Endpoints)
        {
            if (!serving.TryGetEndpoint(endpoint.AddressKey, out var kept) || !kept.Equals(endpoint))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameObjectsInOrder(ImmutableArray<Endpoint> serving, ImmutableArray<Endpoint> compiled)
    {
        for (var i = 0; i < serving.Length; i++)
        {
            if (!ReferenceEquals(serving[i], compiled[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Publishes what <see cref="Build"/> made to each resolver and forgets hosts that are gone.</summary>
    /// <param name="built">What <see cref="Build"/> returned.</param>
    /// <param name="origin">Where a service comes from, for operators.</param>
    /// <returns>The services, for the catalog's one swap.</returns>
    public IReadOnlyList<RoutedService> Publish(MeshServiceBuild built, Func<MeshService, string> origin)
    {
        ArgumentNullException.ThrowIfNull(built);
        ArgumentNullException.ThrowIfNull(origin);
        var services = new List<RoutedService>(built.Items.Count);
        var pools = new Dictionary<string, RoutedService>(StringComparer.Ordinal);
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (service, existing, index) in built.Items)
        {
            var resolver = existing;
            if (resolver is null)
            {
                _resolvers[service.Host] = resolver = new SubsetResolver(index, random: null, _timeProvider);
            }
            else
            {
                resolver.Publish(index);
            }

            kept.Add(service.Host);
            var pool = new RoutedService(service.Host, resolver, service.Hosts, origin(service)) { Protocol = service.Protocol, ConnectionPool = service.ConnectionPool };
            pools[service.Host] = pool;
            services.Add(pool);
        }

        // Then the entries: a service with VirtualService routes is published with them, bound to the pools above (a
        // destination holds the pool without routes, so routing never recurses).
        for (var i = 0; i < services.Count; i++)
        {
            var (service, _, _) = built.Items[i];
            if (service.HasRoutes)
            {
                var pool = services[i];
                services[i] = new RoutedService(pool.Name, pool.Resolver, service.Hosts, pool.Origin) { Protocol = pool.Protocol, ConnectionPool = pool.ConnectionPool, Routes = service.CreateRoutes(name => pools[name]) };
            }
        }

        foreach (var gone in _resolvers.Keys.Where(k => !kept.Contains(k)).ToList())
        {
            _resolvers.Remove(gone);
        }

        return services;
    }
}
