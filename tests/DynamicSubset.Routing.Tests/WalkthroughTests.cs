namespace DynamicSubset.Routing.Tests;

/// <summary>The reference page's walkthrough, step by step, on its own topology.</summary>
public class WalkthroughTests
{
    [Fact]
    public void Step2_SubsetTable_MatchesReferencePage()
    {
        var index = SubsetIndex.Build(Topology.Helloworld, Topology.StageVersion());

        var table = index.Subsets.Select(s => $"{s} | {string.Join(", ", s.Endpoints.Select(e => e.AddressText))}").ToArray();

        Assert.Equal(
            [
                "stage=dev, version=v1 | 192.168.0.5",
                "stage=dev, version=v2 | 192.168.0.1",
                "stage=dev, version=v3 | 192.168.0.252",
                "stage=prod, version=v2 | 192.168.0.103",
                "stage=prod, version=v3 | 192.168.0.6, 192.168.0.104",
            ],
            table);
        Assert.Empty(index.UnassignedEndpoints);
        Assert.Null(index.DefaultSubset);
    }

    [Fact]
    public void Step2_DevV1Headers_RouteToDevV1Pod()
    {
        var resolver = Topology.Resolver(Topology.StageVersion());

        var result = resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v1")));

        Assert.Equal(ResolutionOutcome.Matched, result.Outcome);
        Assert.Equal("192.168.0.5", result.Ip());
        Assert.Equal("helloworld-dev-v1-67b6876778-nf7pz", result.Endpoint!.Name);
        Assert.Equal("stage=dev, version=v1", result.Subset!.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(FallbackPolicy.NoFallback)]
    public void Step3_NoFallback_ProdV1_IsNoHealthyUpstream(FallbackPolicy? selectorPolicy)
    {
        var resolver = Topology.Resolver(Topology.StageVersion(selectorPolicy));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "prod"), ("x-version", "v1")));

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, result.Outcome);
        Assert.Null(result.Endpoint);
        Assert.Equal(FallbackPolicy.NoFallback, result.FallbackPolicy);
        Assert.Equal(selectorPolicy is null ? FallbackScope.Global : FallbackScope.Selector, result.FallbackScope);
    }

    [Fact]
    public void Step3_AnyEndpoint_ProdOnly_FollowsConfigurationToProdV3()
    {
        // SPEC: the page shows prod/v2, but defaultValue v3 makes the criteria stage=prod, version=v3.
        var resolver = Topology.Resolver(Topology.StageVersion(FallbackPolicy.AnyEndpoint));

        var ips = resolver.Ips(Topology.Headers(("x-stage", "prod")));

        Assert.Equal(["192.168.0.104", "192.168.0.6"], ips.Order(StringComparer.Ordinal));
        Assert.Equal(ResolutionOutcome.Matched, resolver.Resolve(Topology.Headers(("x-stage", "prod"))).Outcome);
    }

    [Fact]
    public void Step3_AnyEndpoint_ProdV1_FallsBackToAnyPod()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(FallbackPolicy.AnyEndpoint));
        var headers = Topology.Headers(("x-stage", "prod"), ("x-version", "v1"));

        var result = resolver.Resolve(headers);

        Assert.Equal(ResolutionOutcome.Fallback, result.Outcome);
        Assert.Equal(FallbackPolicy.AnyEndpoint, result.FallbackPolicy);
        Assert.Equal(FallbackScope.Selector, result.FallbackScope);
        Assert.Null(result.Subset);
        Assert.Equal(6, resolver.Ips(headers, 400).Count);
    }

    [Fact]
    public void Step3_DefaultSubset_ProdV1_LandsOnBothProdV3Replicas()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(
            FallbackPolicy.DefaultSubset, defaultSubset: [("stage", "prod"), ("version", "v3")]));
        var headers = Topology.Headers(("x-stage", "prod"), ("x-version", "v1"));

        var result = resolver.Resolve(headers);

        Assert.Equal(ResolutionOutcome.Fallback, result.Outcome);
        Assert.Equal(FallbackPolicy.DefaultSubset, result.FallbackPolicy);
        Assert.Equal(FallbackScope.Selector, result.FallbackScope);
        Assert.Equal(["192.168.0.104", "192.168.0.6"], resolver.Ips(headers).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Step4_IpPinning_EveryRequestLandsOnThePinnedPod()
    {
        var resolver = Topology.Resolver(Topology.IpPinning());
        var headers = Topology.Headers(("x-ip", "192.168.0.6"));

        Assert.Equal(["192.168.0.6"], resolver.Ips(headers));
        Assert.Equal("%ip%=192.168.0.6", resolver.Resolve(headers).Subset!.ToString());
        Assert.Equal(6, resolver.Current.Subsets.Length);
    }

    [Fact]
    public void Step4_DefaultSubsetWithoutPolicy_IsUnused()
    {
        var resolver = Topology.Resolver(Topology.IpPinning());

        var unknownIp = resolver.Resolve(Topology.Headers(("x-ip", "10.9.9.9")));
        var noHeader = resolver.Resolve(Topology.Headers());

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, unknownIp.Outcome);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, noHeader.Outcome);
        Assert.Equal((FallbackPolicy.NoFallback, FallbackScope.Global), (noHeader.FallbackPolicy!.Value, noHeader.FallbackScope!.Value));
        Assert.NotNull(resolver.Current.DefaultSubset);
    }

    [Fact]
    public void Step4_IpShared_EndpointsOnOneIpShareOneSubset()
    {
        Endpoint[] endpoints =
        [
            Endpoint.Create("10.0.0.7", 8080, Topology.Labels(("version", "v1"))),
            Endpoint.Create("10.0.0.7", 9090, Topology.Labels(("version", "v2"))),
            Endpoint.Create("10.0.0.8", 8080),
        ];
        var resolver = Topology.Resolver(Topology.IpPinning(), endpoints);

        var subset = Assert.Single(resolver.Current.Subsets, s => s.ToString() == "%ip%=10.0.0.7");

        Assert.Equal(["10.0.0.7:8080", "10.0.0.7:9090"], subset.Endpoints.Select(e => e.ToString()));
        var reached = Enumerable.Range(0, 200)
            .Select(_ => resolver.Resolve(Topology.Headers(("x-ip", "10.0.0.7"))).Endpoint!.ToString())
            .ToHashSet();
        Assert.Equal(["10.0.0.7:8080", "10.0.0.7:9090"], reached.Order(StringComparer.Ordinal));
    }
}
