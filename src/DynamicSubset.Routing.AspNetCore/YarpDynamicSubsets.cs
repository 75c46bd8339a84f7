using System.Runtime.CompilerServices;
using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// A YARP proxy-pipeline step: narrows a cluster's available destinations to the subset the request's headers
/// resolve to, before YARP's own load balancing picks one. A cluster is routed when
/// <see cref="DynamicSubsetRoutingOptions"/> are registered under its cluster id; destinations carry their labels in
/// <c>Metadata</c>.
/// </summary>
internal sealed class YarpDynamicSubsets(IOptionsMonitor<DynamicSubsetRoutingOptions> options)
{
    // One resolver per destination list: YARP swaps the list (a new object) whenever a cluster's destinations or
    // their health change, so the table follows it without polling.
    private readonly ConditionalWeakTable<IReadOnlyList<DestinationState>, ClusterRouting> _byDestinations = new();

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var feature = context.Features.Get<IReverseProxyFeature>();
        var clusterId = feature?.Cluster?.Config.ClusterId;
        if (feature is null || clusterId is null || feature.AvailableDestinations.Count == 0 || Policy(clusterId) is not { } policy)
        {
            await next().ConfigureAwait(false);
            return;
        }

        var routing = _byDestinations.GetValue(feature.AvailableDestinations, d => ClusterRouting.Create(d));
        var resolver = routing.For(policy);
        var resolution = resolver.Resolve(new HeaderDictionarySource(context.Request.Headers));
        if (!resolution.HasEndpoint)
        {
            await DynamicSubsetGateway.WriteNoHealthyUpstreamAsync(context).ConfigureAwait(false);
            return;
        }

        feature.AvailableDestinations = [.. resolution.CandidateEndpoints.Select(e => routing.Destinations[e.AddressKey])];
        await next().ConfigureAwait(false);
    }

    // The monitor hands out the same options object until a reload, so the policy is built once per reload.
    private readonly ConditionalWeakTable<DynamicSubsetRoutingOptions, StrongBox<RoutingPolicy?>> _policies = new();

    private RoutingPolicy? Policy(string clusterId) =>
        _policies.GetValue(options.Get(clusterId), static o =>
            new(o.TrafficPolicy.LoadBalancer.DynamicSubset.SubsetSelectors.Count == 0 ? null : o.ToRoutingPolicy())).Value;

    private sealed class ClusterRouting(Dictionary<EndpointAddress, DestinationState> destinations, List<Endpoint> endpoints)
    {
        private (RoutingPolicy Policy, SubsetResolver Resolver)? _current;

        public Dictionary<EndpointAddress, DestinationState> Destinations => destinations;

        public static ClusterRouting Create(IReadOnlyList<DestinationState> available)
        {
            var map = new Dictionary<EndpointAddress, DestinationState>();
            var endpoints = new List<Endpoint>();
            foreach (var destination in available)
            {
                var uri = new Uri(destination.Model.Config.Address);
                if (!System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
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

        public SubsetResolver For(RoutingPolicy policy)
        {
            var current = _current;
            if (current is { } c && ReferenceEquals(c.Policy, policy))
            {
                return c.Resolver;
            }

            var resolver = new SubsetResolver(SubsetIndex.Build(endpoints, policy));
            _current = (policy, resolver);
            return resolver;
        }
    }
}
