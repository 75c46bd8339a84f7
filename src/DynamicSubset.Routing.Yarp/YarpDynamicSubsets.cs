using System.Diagnostics;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// A YARP proxy-pipeline step: narrows a cluster's available destinations to the subset the request's headers resolve
/// to, lets YARP's own load balancing pick one, and runs YARP's forwarding inside the pipeline's attempt loop, so a
/// route's retries and timeouts, outlier detection and telemetry apply as at every other entry point. The cluster's
/// routing policy comes from the catalog the registry finds for the cluster id (else the default one): its service named
/// by the cluster's <c>DynamicSubset.Service</c> metadata, or by its id. Destinations carry their labels in <c>Metadata</c>.
/// </summary>
internal sealed class YarpDynamicSubsets(
    RoutingCatalogRegistry registry, RoutingPipeline pipeline, YarpClusterCatalog clusters, EntryPointIdentity identity, Mirroring mirrors,
    int connectRetries = 2, int maxRetryBody = 64 * 1024)
{
    /// <summary>The cluster metadata key that names the catalog's service, when it is not the cluster id.</summary>
    public const string ServiceMetadataKey = "DynamicSubset.Service";

    /// <summary>YARP's default activity timeout, for each try of a route that says nothing and a cluster that sets none; there is no overall bound by default.</summary>
    private static readonly TimeSpan DefaultPerTryTimeout = TimeSpan.FromSeconds(100);

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var proxy = context.Features.Get<IReverseProxyFeature>();
        var cluster = proxy?.Cluster?.Config;
        if (proxy is null || cluster is null || proxy.AvailableDestinations.Count == 0 || FindService(cluster) is not { } service)
        {
            await next().ConfigureAwait(false);
            return;
        }

        var facts = identity.Apply(DynamicSubsetGateway.Facts(context));
        var headers = new HeaderDictionarySource(context.Request.Headers);

        // The service's VirtualService picks the route and the destination pool; the pool's policy then routes over
        // YARP's destinations (for a static subset, those at the subset's endpoints), in the YARP catalog's resolver.
        var routed = service.Route(facts, headers);
        if (routed.IsNoRoute)
        {
            _ = pipeline.Decide(service, facts, headers, Activity.Current); // records and logs the miss, as elsewhere
            await DynamicSubsetGateway.WriteAsync(context, StatusCodes.Status404NotFound, RoutingPipeline.NoRouteBody).ConfigureAwait(false);
            return;
        }

        if (routed.Route is { } route && (route.AnswersItself || route.HasActions))
        {
            // As at the gateway: CORS, fault injection, a redirect or a direct response answered here, then the mirrors.
            if (await RouteActions.TryAnswerAsync(context, route).ConfigureAwait(false))
            {
                _ = pipeline.Decide(service, facts, headers, Activity.Current); // recorded as every decision is
                return;
            }

            if (!route.Mirrors.IsEmpty)
            {
                await mirrors.CopyAsync(context, route).ConfigureAwait(false);
            }
        }

        var pool = clusters.For(cluster.ClusterId, proxy.AvailableDestinations, routed.Service, isStaticSubset: routed.Destination?.Subset is not null);
        var decision = pipeline.Decide(pool.Service, facts, headers, Activity.Current);
        if (!decision.Resolution.HasEndpoint)
        {
            await DynamicSubsetGateway.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RoutingPipeline.NoHealthyUpstreamBody).ConfigureAwait(false);
            return;
        }

        var state = new YarpStepRequest(context, proxy, pool, next, decision) { Routed = routed.Route is { HasActions: true } ? routed : null };
        context.Features.Set<IDynamicSubsetRoutingFeature>(state);
        var rules = RetryRules.For(routed.Route, connectRetries, cluster.HttpRequest?.ActivityTimeout ?? DefaultPerTryTimeout, Timeout.InfiniteTimeSpan);
        state.Grpc = GrpcCall.Start(context, ref rules, maxRetryBody);
        await DynamicSubsetGateway.SendAsync(pipeline, context, decision, rules, state, state.Grpc).ConfigureAwait(false);
    }

    private RoutedService? FindService(global::Yarp.ReverseProxy.Configuration.ClusterConfig cluster)
    {
        var name = cluster.Metadata?.GetValueOrDefault(ServiceMetadataKey) ?? cluster.ClusterId;
        return registry.TryFind(cluster.ClusterId, out var catalog) && catalog.Current.TryFind(name, out var service) ? service : null;
    }
}
