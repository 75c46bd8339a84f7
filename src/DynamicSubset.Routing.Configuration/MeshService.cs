using System.Collections.Immutable;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// One service routed with dynamic subsets: a DestinationRule's host with its policy, the header mappings of
/// the VirtualService route that sends traffic to it, and its endpoints.
/// </summary>
public sealed class MeshService
{
    internal MeshService(string host, string @namespace, string ruleName, ImmutableArray<string> hosts, int? port, RoutingPolicy policy, ImmutableArray<Endpoint> endpoints)
    {
        Host = host;
        Namespace = @namespace;
        RuleName = ruleName;
        Hosts = hosts;
        Port = port;
        Policy = policy;
        Endpoints = endpoints;
    }

    /// <summary>Gets the service's fully qualified host, for example <c>helloworld.default.svc.cluster.local</c>.</summary>
    public string Host { get; }

    /// <summary>Gets the DestinationRule's namespace.</summary>
    public string Namespace { get; }

    /// <summary>Gets the DestinationRule's name.</summary>
    public string RuleName { get; }

    /// <summary>Gets every host that names this service: its own, and the hosts of the VirtualServices that route to it.</summary>
    public ImmutableArray<string> Hosts { get; }

    /// <summary>Gets the service port the VirtualService routes to, or <see langword="null"/> when none is named.</summary>
    public int? Port { get; }

    /// <summary>Gets the routing policy.</summary>
    public RoutingPolicy Policy { get; }

    /// <summary>Gets the endpoints, from Pods selected by the Service, ServiceEntry endpoints, and WorkloadEntries.</summary>
    public ImmutableArray<Endpoint> Endpoints { get; }

    /// <summary>Gets the destination host this pool belongs to: <see cref="Host"/> without a subset's suffix.</summary>
    public string DestinationHost { get => field ?? Host; internal init; }

    /// <summary>Gets the DestinationRule subset this pool holds (the endpoints whose labels contain the subset's), or <see langword="null"/> for the whole host.</summary>
    public string? Subset { get; internal init; }

    /// <summary>Gets the HTTP version the endpoints are sent requests in: from the Service port's <c>appProtocol</c> or name, and the DestinationRule's <c>connectionPool.http</c>.</summary>
    public UpstreamProtocol Protocol { get; internal init; }

    /// <summary>Gets the DestinationRule's <c>connectionPool</c> limits, or <see langword="null"/>.</summary>
    public ConnectionPoolPolicy? ConnectionPool { get; internal init; }

    /// <summary>Gets a value indicating whether requests that name this service go through VirtualService routes.</summary>
    public bool HasRoutes => !RouteSpecs.IsEmpty;

    internal ImmutableArray<MeshRoute> RouteSpecs { get; init; } = [];

    /// <summary>Gets where the pool's pod endpoints come from (Services and ports), for incremental pod changes.</summary>
    internal ImmutableArray<PodSource> PodSources { get; init; } = [];

    /// <summary>Gets a value indicating whether endpoints other than pods' (ServiceEntry, WorkloadEntry) are in the pool's host.</summary>
    internal bool HasOtherEndpoints { get; init; }

    /// <summary>Gets the labels a static subset's endpoints must have, or <see langword="null"/> for the whole host.</summary>
    internal IReadOnlyDictionary<string, string>? SubsetLabels { get; init; }

    /// <summary>
    /// The endpoints a pod gives this pool, as the compiler makes them: one per IP at the port each selecting Service's
    /// port targets, kept when they have the static subset's labels.
    /// </summary>
    internal List<Endpoint> EndpointsOf(PodDoc? pod)
    {
        var result = new List<Endpoint>();
        if (pod is null)
        {
            return result;
        }

        foreach (var source in PodSources)
        {
            if (!source.Selects(pod) || source.TargetFor(pod) is not { } target)
            {
                continue;
            }

            foreach (var ip in pod.Ips)
            {
                Endpoint endpoint;
                try
                {
                    endpoint = Endpoint.Create(ip, target, pod.Labels, pod.Ready, 1, pod.Info.Name);
                }
                catch (RoutingValidationException)
                {
                    continue; // as the compiler: an IP that is not one is skipped (and warned there)
                }

                if (SubsetLabels is null || SubsetLabels.All(l => endpoint.TryGetValue(l.Key, out var v) && v == l.Value))
                {
                    result.Add(endpoint);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Makes this service's VirtualService routes, with each destination bound to its pool (another service of the same
    /// configuration, found by <see cref="Host"/>).
    /// </summary>
    /// <param name="pools">Finds a pool by its <see cref="Host"/>.</param>
    /// <returns>The routes, in <c>http[]</c> order; empty when <see cref="HasRoutes"/> is <see langword="false"/>.</returns>
    internal ImmutableArray<HttpRouteRule> CreateRoutes(Func<string, RoutedService> pools)
    {
        ArgumentNullException.ThrowIfNull(pools);
        return [.. RouteSpecs.Select(spec => Create(spec, pools))];
    }

    private static HttpRouteRule Create(MeshRoute spec, Func<string, RoutedService> pools)
    {
        var doc = spec.Doc;
        var actions = doc.Actions;
        var destinations = actions.AnswersItself ? []
            : spec.Destinations.Select(d => new RouteDestination(d.Destination.Host, d.Destination.Subset, pools(d.Pool), d.Destination.Weight) { Headers = d.Destination.Headers });
        return new HttpRouteRule(destinations, doc.Matches)
        {
            Name = doc.Name ?? doc.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Retries = doc.Retries,
            Timeout = doc.Timeout,
            Redirect = actions.Redirect,
            DirectResponse = actions.DirectResponse,
            Rewrite = actions.Rewrite,
            Headers = actions.Headers,
            Fault = actions.Fault,
            Mirrors = [.. spec.Mirrors.Select(m => new HttpMirror(new RouteDestination(m.Destination.Host, m.Destination.Subset, pools(m.Pool)), m.Percentage))],
            CorsPolicy = actions.Cors,
        };
    }

    /// <summary>Builds a snapshot of this service.</summary>
    /// <returns>The snapshot.</returns>
    public SubsetIndex BuildIndex() => SubsetIndex.Build(Endpoints, Policy);

    /// <summary>Whether a request's host (without its port) names this service, short names included.</summary>
    /// <param name="requestHost">The host, for example <c>helloworld</c> or <c>helloworld.default</c>.</param>
    /// <returns><see langword="true"/> if it names this service.</returns>
    public bool Matches(string requestHost)
    {
        ArgumentNullException.ThrowIfNull(requestHost);
        foreach (var host in Hosts)
        {
            if (HostNames.Matches(requestHost, host))
            {
                return true;
            }
        }

        return false;
    }
}
