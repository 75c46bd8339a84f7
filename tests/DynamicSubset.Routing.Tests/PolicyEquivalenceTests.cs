namespace DynamicSubset.Routing.Tests;

/// <summary><see cref="RoutingPolicy.IsEquivalentTo"/>: what a reload compares to keep a service's snapshot.</summary>
public class PolicyEquivalenceTests
{
    private static RoutingPolicy Make(int consecutive = 5, string failoverTo = "eu-west", string? defaultValue = "v3") =>
        new(new DynamicSubsetPolicy([new SubsetSelector(["stage", "version"], FallbackPolicy.AnyEndpoint)], FallbackPolicy.NoFallback, new Dictionary<string, string> { ["stage"] = "prod" }),
            [new HeaderMapping("x-version", "version", defaultValue), new HeaderMapping("x-stage", "stage")], LoadBalancingPolicy.RoundRobin)
        {
            OutlierDetection = new OutlierDetectionPolicy(consecutive),
            ConsistentHash = ConsistentHashPolicy.ForHeader("x-user"),
            Locality = LocalityLoadBalancing.Default with { Failover = [new LocalityFailover("us-east", failoverTo)], FailoverPriority = ["network"] },
        };

    [Fact]
    public void TwoPoliciesBuiltAlike_AreEquivalent_AndAnyFieldThatDiffers_IsNot()
    {
        Assert.True(Make().IsEquivalentTo(Make()));
        Assert.False(Make().IsEquivalentTo(Make(consecutive: 6)));
        Assert.False(Make().IsEquivalentTo(Make(failoverTo: "ap-south")));
        Assert.False(Make().IsEquivalentTo(Make(defaultValue: null)));
        Assert.False(Make().IsEquivalentTo(new RoutingPolicy(DynamicSubsetPolicy.None, [])));
    }
}
