namespace DynamicSubset.Routing.Tests;

/// <summary>
/// Incremental updates of the any-endpoint set: <see cref="SubsetIndex.Apply"/> skips rescanning it when it stays all
/// healthy at one weight, so these check the cases where it does not.
/// </summary>
public class ApplyTests
{
    private static readonly Dictionary<string, string> NoMatch = Topology.Headers(("x-stage", "qa"), ("x-version", "v9"));

    private static SubsetResolver AnyEndpointResolver(LoadBalancingPolicy loadBalancing) => Topology.Resolver(
        Topology.StageVersion(FallbackPolicy.AnyEndpoint, loadBalancing: loadBalancing),
        [Topology.Pod("a", "10.0.0.1", "prod", "v3"), Topology.Pod("b", "10.0.0.2", "dev", "v1")]);

    [Fact]
    public void UnhealthyEndpointJoiningTheAnySet_IsNeverPicked()
    {
        var resolver = AnyEndpointResolver(LoadBalancingPolicy.RoundRobin);
        resolver.ApplyChanges([EndpointChange.Upsert(Topology.Pod("c", "10.0.0.3", "qa", "v1", healthy: false))]);

        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Ips(NoMatch, 60).Order(StringComparer.Ordinal));
        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Resolve(NoMatch).CandidateEndpoints.Select(e => e.AddressText));
    }

    [Fact]
    public void EndpointMarkedUnhealthy_LeavesTheAnySet_AndComesBack()
    {
        var resolver = AnyEndpointResolver(LoadBalancingPolicy.RoundRobin);
        var a = resolver.Current.Endpoints[0].AddressKey;

        resolver.ApplyChanges([EndpointChange.SetHealth(a, false)]);
        Assert.Equal(["10.0.0.2"], resolver.Ips(NoMatch, 40));

        resolver.ApplyChanges([EndpointChange.SetHealth(a, true)]);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Ips(NoMatch, 40).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EndpointWithAnotherWeightJoiningTheAnySet_GetsItsShare()
    {
        var resolver = AnyEndpointResolver(LoadBalancingPolicy.RoundRobin);
        resolver.ApplyChanges([EndpointChange.Upsert(Topology.Pod("c", "10.0.0.3", "qa", "v1", weight: 2))]);

        // Weighted round robin over weights 1, 1, 2: exactly 2 of every 4 picks go to the heavy endpoint.
        var counts = Enumerable.Range(0, 400).Select(_ => resolver.Resolve(NoMatch).Ip()).CountBy(ip => ip).ToDictionary();
        Assert.Equal(200, counts["10.0.0.3"]);
        Assert.Equal(100, counts["10.0.0.1"]);
    }
}
