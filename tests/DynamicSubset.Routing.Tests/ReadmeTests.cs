namespace DynamicSubset.Routing.Tests;

/// <summary>The README's usage example, verbatim in substance, so the README stays true.</summary>
public class ReadmeTests
{
    [Fact]
    public void ReadmeUsage_ResolvesAsDescribed()
    {
        var policy = new RoutingPolicy(
            new DynamicSubsetPolicy(
                [new SubsetSelector(["stage", "version"], FallbackPolicy.DefaultSubset)],
                defaultSubset: [new("stage", "prod"), new("version", "v3")]),
            [new HeaderMapping("x-version", "version", defaultValue: "v3"),
             new HeaderMapping("x-stage", "stage", defaultValue: "prod")]);

        Endpoint[] endpoints =
        [
            Endpoint.Create("192.168.0.5", 5678, new Dictionary<string, string> { ["stage"] = "dev", ["version"] = "v1" }),
            Endpoint.Create("192.168.0.6", 5678, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" }),
        ];

        var resolver = new SubsetResolver(SubsetIndex.Build(endpoints, policy));

        var result = resolver.Resolve(new Dictionary<string, string> { ["x-stage"] = "dev", ["x-version"] = "v1" });
        Assert.Equal(ResolutionOutcome.Matched, result.Outcome);
        Assert.Equal("192.168.0.5:5678", result.Endpoint!.ToString());
        Assert.Equal("stage=dev, version=v1", result.Subset!.ToString());

        resolver.ApplyChanges([EndpointChange.SetHealth(endpoints[0].AddressKey, isHealthy: false)]);
        var after = resolver.Resolve(new Dictionary<string, string> { ["x-stage"] = "dev", ["x-version"] = "v1" });
        Assert.Equal((ResolutionOutcome.Fallback, "192.168.0.6"), (after.Outcome, after.Endpoint!.AddressText));
    }
}
