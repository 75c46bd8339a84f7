using System.Collections.Immutable;
using Yarp.ReverseProxy.Model;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// The YARP step's routing: for each cluster and pool, the pool's policy over YARP's own destinations (labels in their
/// <c>Metadata</c>). A catalog like any other, in the registry, so the admin view, the gauges and outlier detection see
/// it: each pool keeps one resolver for the life of the app, rebuilt in place when YARP swaps the destination list or
/// the catalog's policy changes, so its ejections (kept per pod address) survive both.
/// </summary>
internal sealed class YarpClusterCatalog() : RoutingCatalog("YARP cluster destinations")
{
    private readonly Lock _lock = new();
    private ImmutableDictionary<(string Cluster, string Pool), ClusterPool> _pools = ImmutableDictionary<(string, string), ClusterPool>.Empty;

    /// <summary>The pool's policy over the cluster's destinations; for a static subset, only those at the subset's addresses.</summary>
    public ClusterPool For(string cluster, IReadOnlyList<DestinationState> destinations, RoutedService pool, bool isStaticSubset)
    {
        var configured = pool.Resolver.Configured;
        if (Volatile.Read(ref _pools).TryGetValue((cluster, pool.Name), out var current) && current.Follows(destinations, configured, pool))
        {
            return current; // the common case: one dictionary read, no lock
        }

        lock (_lock)
        {
            if (_pools.TryGetValue((cluster, pool.Name), out current) && current.Follows(destinations, configured, pool))
            {
                return current;
            }

            var next = ClusterPool.Create(cluster, destinations, pool, configured, isStaticSubset, current);
            Volatile.Write(ref _pools, _pools.SetItem((cluster, pool.Name), next));

            // One service per pool name in the snapshot (two clusters over one pool share a name): the first cluster's.
            Publish(_pools.Values.OrderBy(static p => p.Cluster, StringComparer.Ordinal).Select(static p => p.Service).DistinctBy(static s => s.Name));
            return next;
        }
    }

    /// <summary>One cluster's destinations as a pool's endpoints, and the maps between the two.</summary>
    internal sealed class ClusterPool
    {
        private readonly IReadOnlyList<DestinationState> _destinations;
        private readonly SubsetIndex _configured;
        private readonly Dictionary<EndpointAddress, DestinationState> _byAddress;
        private readonly Dictionary<DestinationState, Endpoint> _byDestination;

        private ClusterPool(string cluster, IReadOnlyList<DestinationState> destinations, SubsetIndex configured, RoutedService service, Dictionary<EndpointAddress, DestinationState> byAddress, Dictionary<DestinationState, Endpoint> byDestination)
        {
            Cluster = cluster;
            _destinations = destinations;
            _configured = configured;
            Service = service;
            _byAddress = byAddress;
            _byDestination = byDestination;
        }

        public string Cluster { get; }

        public RoutedService Service { get; }

        /// <summary>
        /// Whether this pool is current: YARP swaps the destination list (a new object) whenever a cluster's destinations
        /// or their health change, and the catalog's resolver swaps its configured snapshot when the policy or the
        /// static subset's members change; both are compared by reference. The catalog pool's connection settings and
        /// protocol are compared by value (a reload makes equal ones anew).
        /// </summary>
        public bool Follows(IReadOnlyList<DestinationState> destinations, SubsetIndex configured, RoutedService pool) =>
            ReferenceEquals(_destinations, destinations) && ReferenceEquals(_configured, configured) &&
            Service.ConnectionPool == pool.ConnectionPool && Service.Protocol == pool.Protocol;

        public DestinationState? DestinationOf(Endpoint endpoint) => _byAddress.GetValueOrDefault(endpoint.AddressKey);

        public Endpoint? EndpointOf(DestinationState destination) => _byDestination.GetValueOrDefault(destination);

        public static ClusterPool Create(string cluster, IReadOnlyList<DestinationState> destinations, RoutedService pool, SubsetIndex configured, bool isStaticSubset, ClusterPool? previous)
        {
            var members = isStaticSubset ? configured.Endpoints.Select(static e => e.AddressKey).ToHashSet() : null;
            var byAddress = new Dictionary<EndpointAddress, DestinationState>();
            var byDestination = new Dictionary<DestinationState, Endpoint>();
            var endpoints = new List<Endpoint>();
            foreach (var destination in destinations)
            {
                if (!Uri.TryCreate(destination.Model.Config.Address, UriKind.Absolute, out var uri) ||
                    !System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
                {
                    continue; // only IP destinations can form subsets; a host name is left out
                }

                var endpoint = new Endpoint(ip, uri.Port, destination.Model.Config.Metadata, name: destination.DestinationId);
                if ((members is null || members.Contains(endpoint.AddressKey)) && byAddress.TryAdd(endpoint.AddressKey, destination))
                {
                    byDestination[destination] = endpoint;
                    endpoints.Add(endpoint);
                }
            }

            var policy = configured.Policy;
            SubsetResolver resolver;
            if (previous is null)
            {
                resolver = new SubsetResolver(SubsetIndex.Build(endpoints, policy));
            }
            else
            {
                // The same resolver, rebuilt in place: its outlier state (and its pool's circuit breaker) follow the pods.
                resolver = previous.Service.Resolver;
                resolver.Publish(resolver.Configured.Rebuild(endpoints, policy));
            }

            // The catalog pool's limits and connection settings hold for YARP's destinations too.
            var service = previous is { } p && p.Service.ConnectionPool == pool.ConnectionPool && p.Service.Protocol == pool.Protocol
                ? p.Service
                : new RoutedService(pool.Name, resolver, origin: $"YARP cluster '{cluster}'") { ConnectionPool = pool.ConnectionPool, Protocol = pool.Protocol };

            return new ClusterPool(cluster, destinations, configured, service, byAddress, byDestination);
        }
    }
}
