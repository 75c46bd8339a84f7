using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace DynamicSubset.Routing.Http.Tests;

public sealed class HandlerRouteFixture() : HelloworldFixture(block: 25)
{
    /// <summary>The pods, the reference Service, and a DestinationRule and VirtualService of routes, written as files.</summary>
    public string[] RouteFiles()
    {
        var files = MeshFiles("dr-step2.yaml", "vs-step2.yaml");
        var dir = Path.GetDirectoryName(files[0])!;
        var mesh = Path.Combine(dir, "routes.yaml");
        File.WriteAllText(mesh, """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: helloworld}
            spec:
              host: helloworld
              subsets:
                - {name: v1, labels: {version: v1}}
                - {name: prod-v3, labels: {stage: prod, version: v3}, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
                - {name: sticky, labels: {stage: prod}, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: affinity, ttl: 60s}}}}}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: helloworld}
            spec:
              hosts: [helloworld]
              http:
                - name: admin
                  match: [{uri: {prefix: /admin}, method: {exact: GET}}]
                  route: [{destination: {host: helloworld, subset: v1}}]
                - name: checkout
                  match: [{uri: {prefix: /checkout}}]
                  route: [{destination: {host: helloworld, subset: prod-v3}}]
                  retries: {attempts: 2, perTryTimeout: 300ms, retryOn: "gateway-error,connect-failure"}
                - name: sticky
                  match: [{uri: {prefix: /sticky}}]
                  route: [{destination: {host: helloworld, subset: sticky}}]
                - name: slow
                  match: [{uri: {prefix: /slow}}]
                  route: [{destination: {host: helloworld, subset: v1}}]
                  timeout: 100ms
                  retries: {attempts: 0}
            """);
        return [files[0], files[1], mesh];
    }
}

/// <summary>The HttpClient handler routing by a VirtualService: matches, no route, route retries and timeouts, against real pods on 127.0.25.x.</summary>
public sealed class HandlerRouteTests(HandlerRouteFixture fixture) : IClassFixture<HandlerRouteFixture>
{
    private Helloworld Cluster => fixture.Cluster;

    private ServiceProvider Provider(Action<DynamicSubsetHttpOptions>? configure = null) =>
        ClientHarness.Provider(b => b.FromFiles(fixture.RouteFiles()).ConfigureDynamicSubsetHandler(configure ?? (_ => { })));

    [Fact]
    public async Task AMatchingRoute_SendsTheRequestToItsSubset()
    {
        using var provider = Provider();

        Assert.Equal((200, Cluster["dev-v1"].Greeting), await provider.Client().GetAsync("/admin/users", []));
    }

    [Fact]
    public async Task NoRoute_Is404_OrNoRouteExceptionWhenSoConfigured()
    {
        using var respond = Provider();
        using var raise = Provider(o => o.FailureBehavior = RoutingFailureBehavior.Throw);

        Assert.Equal((404, "no route"), await respond.Client().GetAsync("/shop", []));
        var error = await Assert.ThrowsAsync<NoRouteException>(() => raise.Client().GetAsync("/shop?x=1", []));
        Assert.Equal("no route of helloworld.default.svc.cluster.local matches GET /shop?x=1", error.Message);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task RouteRetries_RetryA503_AndAHungTry_OnTheOtherPod()
    {
        using var provider = Provider();
        using var retries = new MetricCollector<long>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Retries);
        Cluster["prod-v3-a"].FailWith = 503;
        try
        {
            for (var i = 0; i < 6; i++)
            {
                Assert.Equal((200, Cluster["prod-v3-b"].Greeting), await provider.Client().GetAsync("/checkout", []));
            }

            Cluster["prod-v3-a"].FailWith = 0;
            Cluster["prod-v3-a"].Hang = true;
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal((200, Cluster["prod-v3-b"].Greeting), await provider.Client().GetAsync("/checkout", []));
            }

            var reasons = retries.GetMeasurementSnapshot().Select(m => (string?)m.Tags[RoutingTelemetryNames.RetryReasonTag]).ToHashSet();
            Assert.Contains("retriable-status", reasons);
            Assert.Contains("per-try-timeout", reasons);
        }
        finally
        {
            Cluster["prod-v3-a"].FailWith = 0;
            Cluster["prod-v3-a"].Hang = false;
        }
    }

    [Fact]
    public async Task CookieAffinity_TheResponseCarriesTheGeneratedCookie_AndTheNextRequestFollowsIt()
    {
        using var provider = Provider();
        var client = provider.Client();

        using var first = await client.GetAsync("/sticky", TestContext.Current.CancellationToken);
        var body = await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var cookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.Matches("^affinity=[0-9a-f]{16}; Max-Age=60; HttpOnly$", cookie);

        var pair = cookie[..cookie.IndexOf(';', StringComparison.Ordinal)];
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal((200, body), await client.GetAsync("/sticky", ("Cookie", pair)));
        }
    }

    [Fact]
    public async Task RouteTimeout_Is504_EvenWhenTheClientAllowsMore()
    {
        using var provider = Provider(o => o.Timeout = TimeSpan.FromMinutes(1));
        Cluster["dev-v1"].Hang = true;
        try
        {
            Assert.Equal((504, "upstream request timeout"), await provider.Client().GetAsync("/slow", []));
        }
        finally
        {
            Cluster["dev-v1"].Hang = false;
        }
    }
}
