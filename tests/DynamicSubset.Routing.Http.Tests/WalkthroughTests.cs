using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http.Tests;

public sealed class WalkthroughFixture() : HelloworldFixture(block: 1);

/// <summary>
/// The reference page's walkthrough as real HTTP: a named HttpClient from IHttpClientFactory, the page's own
/// DestinationRule and VirtualService YAML, the page's Service, and six Kestrel pods on 127.0.1.11-16:5678.
/// </summary>
public sealed class WalkthroughTests(WalkthroughFixture fixture) : IClassFixture<WalkthroughFixture>
{
    private async Task<HashSet<string>> Bodies(string dr, string vs, int times, params (string, string)[] headers)
    {
        using var provider = ClientHarness.Provider(b => b.FromFiles(fixture.MeshFiles(dr, vs)));
        var client = provider.Client();
        var bodies = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < times; i++)
        {
            var (status, body) = await client.GetAsync("/", headers);
            bodies.Add($"{status} {body}");
        }

        return bodies;
    }

    private string Ok(string pod) => $"200 {fixture.Cluster[pod].Greeting}";

    [Fact]
    public async Task Step2_DevV1_ReachesTheDevV1Pod()
    {
        var bodies = await Bodies("dr-step2.yaml", "vs-step2.yaml", 5, ("x-stage", "dev"), ("x-version", "v1"));

        Assert.Equal([Ok("dev-v1")], bodies);
    }

    [Fact]
    public async Task Step3_NoFallback_ProdV1_Is503NoHealthyUpstream()
    {
        var bodies = await Bodies("dr-no-fallback.yaml", "vs-step2.yaml", 2, ("x-stage", "prod"), ("x-version", "v1"));

        Assert.Equal(["503 no healthy upstream"], bodies);
    }

    [Fact]
    public async Task Step3_AnyEndpoint_ProdOnly_GoesToProdV3_AndProdV1_ToAnyPod()
    {
        var prodOnly = await Bodies("dr-any-endpoint.yaml", "vs-step2.yaml", 40, ("x-stage", "prod"));
        var prodV1 = await Bodies("dr-any-endpoint.yaml", "vs-step2.yaml", 200, ("x-stage", "prod"), ("x-version", "v1"));

        Assert.Equal([Ok("prod-v3-a"), Ok("prod-v3-b")], prodOnly.Order(StringComparer.Ordinal));
        Assert.Equal(fixture.Cluster.Pods.Select(p => $"200 {p.Greeting}").Order(StringComparer.Ordinal), prodV1.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Step3_DefaultSubset_ProdV1_LandsOnBothProdV3Replicas()
    {
        var bodies = await Bodies("dr-default-subset.yaml", "vs-step2.yaml", 40, ("x-stage", "prod"), ("x-version", "v1"));

        Assert.Equal([Ok("prod-v3-a"), Ok("prod-v3-b")], bodies.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Step4_IpPinning_EveryRequestLandsOnThePinnedPod_UnknownIpIs503()
    {
        var pinned = fixture.Cluster["prod-v3-b"];

        var bodies = await Bodies("dr-step4-ip.yaml", "vs-step4-ip.yaml", 10, ("x-ip", pinned.Ip));
        var unknown = await Bodies("dr-step4-ip.yaml", "vs-step4-ip.yaml", 1, ("x-ip", "10.9.9.9"));

        Assert.Equal([Ok("prod-v3-b")], bodies);
        Assert.Equal(["503 no healthy upstream"], unknown);
    }
}
