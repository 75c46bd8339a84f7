using static DynamicSubset.Routing.Tests.Routes.Routing;

namespace DynamicSubset.Routing.Tests.Routes;

/// <summary>Routing through a VirtualService allocates nothing for exact, prefix and presence matches, weights and hashing.</summary>
public class RouteAllocationTests
{
    /// <summary>Twenty routes of prefix and header matches, the request matching only the last, as in the Resolve benchmarks.</summary>
    internal static RoutedService TwentyRoutes(bool withRegex = false)
    {
        var v1 = Only("v1");
        var v3 = Pool("helloworld/v3", Topology.Helloworld.Where(e => e.Labels["version"] == "v3"), Topology.StageVersion());
        var routes = Enumerable.Range(0, 19).Select(i => To(v1, new HttpRouteMatch
        {
            Uri = StringMatch.Prefix(i % 4 == 3 ? $"/service-{i}/" : "/shop/"), // most pass the prefix and fail on the header
            Headers = [Header("x-tenant", withRegex && i % 2 == 0 ? StringMatch.Regex($"tenant-{i}[a-z]*") : StringMatch.Exact($"tenant-{i}"))],
        })).ToList();
        routes.Add(new HttpRouteRule(
            [new RouteDestination("helloworld", "v3", v3, 90), new RouteDestination("helloworld", "v1", v1, 10)],
            [new HttpRouteMatch { Uri = StringMatch.Prefix("/shop/"), Headers = [Header("x-tenant", StringMatch.Present)], Method = StringMatch.Exact("GET") }]));
        return Service([.. routes]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Route_ThroughTwentyRoutes_AllocatesNothing(bool withRegex)
    {
        var service = TwentyRoutes(withRegex);
        var request = new RouteRequest("GET", "/shop/cart?id=7", "helloworld", "http", 8000);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-tenant"] = "tenant-x", ["x-stage"] = "dev" };

        Assert.Equal(19, service.Route(request, new DictionaryHeaderSource(headers)).RouteIndex);
        var allocated = AllocationTests.Measure(() => service.Route(request, new DictionaryHeaderSource(headers)));

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void HashedResolution_AllocatesNothing_OnceTheTableIsBuilt()
    {
        var pool = Pool("helloworld", Topology.Helloworld, new RoutingPolicy(DynamicSubsetPolicy.None, []) { ConsistentHash = ConsistentHashPolicy.ForHeader("x-user") });
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-user"] = "jason" };
        var request = new RouteRequest("GET", "/");

        var allocated = AllocationTests.Measure(() => pool.Route(request, new DictionaryHeaderSource(headers)));

        Assert.Equal(0, allocated);
    }
}
