namespace DynamicSubset.Routing.Tests.Routes;

/// <summary>Builders for route tests: pools of the helloworld pods and services with routes.</summary>
internal static class Routing
{
    public static RoutedService Pool(string name, IEnumerable<Endpoint> endpoints, RoutingPolicy? policy = null) =>
        new(name, new SubsetResolver(SubsetIndex.Build(endpoints, policy ?? new RoutingPolicy(DynamicSubsetPolicy.None, []))));

    public static RoutedService All { get; } = Pool("helloworld", Topology.Helloworld);

    public static RoutedService Only(string version) =>
        Pool($"helloworld/{version}", Topology.Helloworld.Where(e => e.Labels["version"] == version));

    public static HttpRouteRule To(RoutedService pool, params HttpRouteMatch[] matches) =>
        new([new RouteDestination("helloworld", pool.Name.Contains('/') ? pool.Name[(pool.Name.IndexOf('/') + 1)..] : null, pool)], matches);

    public static RoutedService Service(params HttpRouteRule[] routes) =>
        new("helloworld", All.Resolver) { Routes = [.. routes] };

    public static RouteDecision Route(RoutedService service, string path = "/", string method = "GET", params (string Name, string Value)[] headers) =>
        service.Route(new RouteRequest(method, path, "helloworld:8000", "http", 8000), new DictionaryHeaderSource(Topology.Headers(headers)));

    public static KeyValuePair<string, StringMatch> Header(string name, StringMatch match) => new(name, match);
}
