using System.Diagnostics;
using System.Runtime.CompilerServices;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// A YARP proxy-pipeline step: narrows a cluster's available destinations to the subset the request's headers resolve
/// to, before YARP's own load balancing picks one, and retries a connect failure on the rest of that subset. The
/// cluster's routing policy comes from the routing catalog: the one registered under the cluster id, or else the
/// default one, whose service named by the cluster's <c>DynamicSubset.Service</c> metadata (or its id) is used.
/// Destinations carry their labels in <c>Metadata</c>.
/// </summary>
internal sealed class YarpDynamicSubsets(IServiceProvider services, RoutingPipeline pipeline, int connectRetries = 2)
{
    /// <summary>The cluster metadata key that names the catalog's service, when it is not the cluster id.</summary>
    public const string ServiceMetadataKey = "DynamicSubset.Service";

    // One routing per destination list: YARP swaps the list (a new object) whenever a cluster's destinations or their
    // health change, so the table follows it without polling.
    private readonly ConditionalWeakTable<IReadOnlyList<DestinationState>, ClusterRouting> _byDestinations = new();

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var feature = context.Features.Get<IReverseProxyFeature>();
        var cluster = feature?.Cluster?.Config;
        if (feature is null || cluster is null || feature.AvailableDestinations.Count == 0 || FindService(cluster) is not { } service)
        {
            await next().ConfigureAwait(false);
            return;
        }

        var routing = _byDestinations.GetValue(feature.AvailableDestinations, static d => ClusterRouting.Create(d));
        var facts = DynamicSubsetGateway.Facts(context);
        var headers = new HeaderDictionarySource(context.Request.Headers);
        RoutedService pool = service;
        string? subset = null;
        if (!service.Routes.IsEmpty)
        {
            // The service's VirtualService picks the route and the destination; its pool's policy then routes over
            // YARP's destinations (for a static subset, those that are the subset's endpoints).
            var routed = service.Route(facts, headers);
            if (routed.IsNoRoute)
            {
                pipeline.NoRoute(service, facts);
                await DynamicSubsetGateway.WriteAsync(context, StatusCodes.Status404NotFound, RoutingPipeline.NoRouteBody).ConfigureAwait(false);
                return;
            }

            (pool, subset) = (routed.Service, routed.Destination!.Subset);
        }

        var routedPool = routing.For(pool, subset is not null);
        var resolution = pipeline.Decide(routedPool, facts, headers, Activity.Current).Resolution;
        if (!resolution.HasEndpoint)
        {
            await DynamicSubsetGateway.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RoutingPipeline.NoHealthyUpstreamBody).ConfigureAwait(false);
            return;
        }

        var candidates = resolution.CandidateEndpoints.Select(e => routing.Destinations[e.AddressKey]).ToList();
        feature.AvailableDestinations = candidates;
        await next().ConfigureAwait(false);

        // YARP picked one and forwarded. A connect failure, before any response, is retried on the rest of the subset.
        for (var retries = 0; ; retries++)
        {
            var tried = feature.ProxiedDestination;
            var error = context.GetForwarderErrorFeature()?.Error ?? ForwarderError.None;
            var endpoint = tried is null ? null : routing.EndpointOf(tried);
            if (endpoint is null)
            {
                return;
            }

            if (error == ForwarderError.None)
            {
                pipeline.ReportResponse(routedPool, endpoint, context.Response.StatusCode);
                return;
            }

            var reason = DynamicSubsetGateway.Classify(context, error);
            if (reason is not { } why)
            {
                return;
            }

            pipeline.ReportFailure(routedPool, endpoint, why);
            candidates.Remove(tried!);
            if (retries >= connectRetries || why != RetryReason.ConnectFailure || context.Response.HasStarted || !DynamicSubsetGateway.CanResend(context) || candidates.Count == 0)
            {
                pipeline.Failed(routedPool, endpoint, DynamicSubsetGateway.Describe(context, error));
                return;
            }

            pipeline.Retrying(routedPool, endpoint, routing.EndpointOf(candidates[0])!, why, DynamicSubsetGateway.Describe(context, error));
            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
            feature.AvailableDestinations = [.. candidates];
            await next().ConfigureAwait(false);
        }
    }

    private RoutedService? FindService(global::Yarp.ReverseProxy.Configuration.ClusterConfig cluster)
    {
        var catalog = services.GetKeyedService<RoutingCatalog>(cluster.ClusterId) ?? services.GetService<RoutingCatalog>();
        var name = cluster.Metadata?.GetValueOrDefault(ServiceMetadataKey) ?? cluster.ClusterId;
        return catalog is not null && catalog.Current.TryFind(name, out var service) ? service : null;
    }

    /// <summary>A cluster's destinations as endpoints, and the resolver over them for the catalog's current policy.</summary>
    internal sealed class ClusterRouting(Dictionary<EndpointAddress, DestinationState> destinations, List<Endpoint> endpoints)
    {
        private readonly Dictionary<DestinationState, Endpoint> _endpoints = endpoints.ToDictionary(e => destinations[e.AddressKey]);

        // Per pool, one entry swapped whole: a reader never sees one policy's resolver with another's policy.
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Routed> _byPool = new(StringComparer.Ordinal);

        public Dictionary<EndpointAddress, DestinationState> Destinations => destinations;

        public static ClusterRouting Create(IReadOnlyList<DestinationState> available)
        {
            var map = new Dictionary<EndpointAddress, DestinationState>();
            var endpoints = new List<Endpoint>();
            foreach (var destination in available)
            {
                if (!Uri.TryCreate(destination.Model.Config.Address, UriKind.Absolute, out var uri) ||
                    !System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
                {
                    continue; // only IP destinations can form subsets; a host name is left out
                }

                var endpoint = new Endpoint(ip, uri.Port, destination.Model.Config.Metadata, name: destination.DestinationId);
                if (map.TryAdd(endpoint.AddressKey, destination))
                {
                    endpoints.Add(endpoint);
                }
            }

            return new ClusterRouting(map, endpoints);
        }

        public Endpoint? EndpointOf(DestinationState destination) => _endpoints.GetValueOrDefault(destination);

        /// <summary>The pool's policy over YARP's destinations; for a static subset, only those at the subset's addresses.</summary>
        public RoutedService For(RoutedService pool, bool isStaticSubset = false)
        {
            var configured = pool.Resolver.Configured;
            var policy = configured.Policy;
            if (_byPool.TryGetValue(pool.Name, out var current) && ReferenceEquals(current.Policy, policy) && (!isStaticSubset || ReferenceEquals(current.Members, configured)))
            {
                return current.Service;
            }

            var members = isStaticSubset ? configured.Endpoints.Select(static e => e.AddressKey).ToHashSet() : null;
            var chosen = members is null ? endpoints : endpoints.Where(e => members.Contains(e.AddressKey));
            var routed = new Routed(policy, isStaticSubset ? configured : null, new RoutedService(pool.Name, new SubsetResolver(SubsetIndex.Build(chosen, policy)), origin: pool.Origin));
            _byPool[pool.Name] = routed; // two racing builders each store a whole entry; either is right
            return routed.Service;
        }

        private sealed record Routed(RoutingPolicy Policy, SubsetIndex? Members, RoutedService Service);
    }
}
