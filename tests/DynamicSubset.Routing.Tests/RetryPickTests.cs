namespace DynamicSubset.Routing.Tests;

/// <summary>Picking another endpoint for a retry never repeats an endpoint and never leaves the resolved set.</summary>
public class RetryPickTests
{
    [Fact]
    public void TryPickAnother_MatchedSubset_StaysInTheSubset_UntilExhausted()
    {
        var resolver = Topology.Resolver(Topology.StageVersion());
        var first = resolver.Resolve(Topology.Headers(("x-stage", "prod"), ("x-version", "v3")));
        var tried = new List<EndpointAddress> { first.Endpoint!.AddressKey };

        Assert.True(first.TryPickAnother(tried, out var second));
        tried.Add(second.Endpoint!.AddressKey);

        Assert.Equal(["192.168.0.104", "192.168.0.6"], new[] { first.Ip(), second.Ip() }.Order(StringComparer.Ordinal));
        Assert.Equal((ResolutionOutcome.Matched, "stage=prod, version=v3"), (second.Outcome, second.Subset!.ToString()));
        Assert.False(second.TryPickAnother(tried, out var none));
        Assert.Equal(second.Endpoint, none.Endpoint);
    }

    [Fact]
    public void TryPickAnother_DefaultSubsetFallback_StaysInTheDefaultSubset()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(FallbackPolicy.DefaultSubset, defaultSubset: [("stage", "prod"), ("version", "v3")]));
        var first = resolver.Resolve(Topology.Headers(("x-stage", "prod"), ("x-version", "v1")));

        Assert.True(first.TryPickAnother([first.Endpoint!.AddressKey], out var second));

        Assert.Contains(second.Ip(), new[] { "192.168.0.104", "192.168.0.6" });
        Assert.NotEqual(first.Ip(), second.Ip());
        Assert.Equal((FallbackPolicy.DefaultSubset, FallbackScope.Selector), (second.FallbackPolicy!.Value, second.FallbackScope!.Value));
        Assert.Null(second.Subset);
        Assert.False(second.TryPickAnother([first.Endpoint.AddressKey, second.Endpoint!.AddressKey], out _));
    }

    [Fact]
    public void TryPickAnother_SkipsUnhealthyEndpoints_AndNoHealthyUpstreamHasNothingToPick()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(), [Topology.Pod("a", "10.0.0.1", "prod", "v3"), Topology.Pod("b", "10.0.0.2", "prod", "v3", healthy: false)]);
        var first = resolver.Resolve(Topology.Headers());

        Assert.False(first.TryPickAnother([first.Endpoint!.AddressKey], out _));
        Assert.False(resolver.Resolve(Topology.Headers(("x-stage", "qa"))).TryPickAnother([], out _));
    }
}
