using System.Net;
using DynamicSubset.Routing.Http;
using DynamicSubset.Routing.Http.Tests;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// A pasted VirtualService through the real gateway: path and header matches, a weighted canary, static subsets,
/// route retries and timeouts against real Kestrel pods on 127.0.24.x.
/// </summary>
public sealed class GatewayRouteTests : IAsyncLifetime
{
    private const string Rule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: helloworld, namespace: default}
        spec:
          host: helloworld.default.svc.cluster.local
          trafficPolicy:
            loadBalancer:
              dynamicSubset:
                subsetSelectors:
                  - keys: [stage, version]
                # Inside v1 and v2 too (the subsets set no loadBalancer of their own): a route that maps no header
                # has no criteria, so the fallback decides, as in the mesh.
                fallbackPolicy: ANY_ENDPOINT
          subsets:
            - {name: v1, labels: {version: v1}}
            - {name: v2, labels: {version: v2}}
            - name: prod-v3
              labels: {stage: prod, version: v3}
              trafficPolicy:
                loadBalancer:
                  simple: ROUND_ROBIN
            - name: sticky
              labels: {stage: prod}
              trafficPolicy:
                loadBalancer:
                  consistentHash:
                    httpCookie: {name: affinity, path: /, ttl: 3600s}
        """;

    private const string Routes = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: helloworld, namespace: default}
        spec:
          hosts: [helloworld]
          http:
            - name: admin
              match: [{uri: {prefix: /admin}}]
              route: [{destination: {host: helloworld, subset: v1}}]
            - name: testers
              match: [{headers: {x-user: {regex: "(jason|ana)-[0-9]+"}}}]
              route: [{destination: {host: helloworld, subset: v2}}]
            - name: canary
              match: [{uri: {prefix: /canary}}]
              route:
                - {destination: {host: helloworld, subset: v1}, weight: 90}
                - {destination: {host: helloworld, subset: v2}, weight: 10}
            - name: retried
              match: [{uri: {prefix: /retried}}]
              route: [{destination: {host: helloworld, subset: prod-v3}}]
              retries: {attempts: 2, retryOn: "5xx"}
            - name: not-retried
              match: [{uri: {prefix: /plain}}]
              route: [{destination: {host: helloworld, subset: prod-v3}}]
            - name: per-try
              match: [{uri: {prefix: /per-try}}]
              route: [{destination: {host: helloworld, subset: prod-v3}}]
              retries: {attempts: 1, perTryTimeout: 300ms, retryOn: "gateway-error"}
              timeout: 5s
            - name: deadline
              match: [{uri: {prefix: /deadline}}]
              route: [{destination: {host: helloworld, subset: v1}}]
              timeout: 400ms
            - name: sticky
              match: [{uri: {prefix: /sticky}}]
              route: [{destination: {host: helloworld, subset: sticky}}]
            - name: default
              match: [{uri: {prefix: /}, method: {exact: GET}}]
              headerToDynamicSubsetKey:
                - {header: x-version, key: version, defaultValue: v3}
                - {header: x-stage, key: stage, defaultValue: prod}
              route: [{destination: {host: helloworld}}]
        """;

    private Helloworld _pods = null!;

    public async ValueTask InitializeAsync() => _pods = await Helloworld.StartAsync(block: 24);

    public async ValueTask DisposeAsync() => await _pods.DisposeAsync();

    private async Task<GatewayHarness> Gateway(string ip, MeshFolder mesh, Action<DynamicSubsetGatewayOptions>? configure = null)
    {
        var gateway = await GatewayHarness.StartAsync(ip, mesh.Files, configure);
        Assert.Equal(RoutingCatalogSyncState.Synced, gateway.Catalog.Status.SyncState);
        return gateway;
    }

    [Fact]
    public async Task PathMatch_SendsAdminToV1_AndTheRestThroughDynamicSubsets()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.1", mesh);

        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await gateway.GetAsync("/admin/users"));
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v2"].Greeting), await gateway.GetAsync("/", headers: [("x-stage", "dev"), ("x-version", "v2")]));
        Assert.Contains((await gateway.GetAsync("/")).Body, new[] { _pods["prod-v3-a"].Greeting, _pods["prod-v3-b"].Greeting });
    }

    [Fact]
    public async Task HeaderRegex_SendsTestersToV2_AsAFullMatch()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.2", mesh);

        var v2 = new[] { _pods["dev-v2"].Greeting, _pods["prod-v2"].Greeting };
        Assert.Contains((await gateway.GetAsync("/", headers: ("x-user", "jason-7"))).Body, v2);
        Assert.Contains((await gateway.GetAsync("/", headers: ("X-USER", "ana-12"))).Body, v2);
        Assert.DoesNotContain((await gateway.GetAsync("/", headers: ("x-user", "jason-7x"))).Body, v2); // not the whole value
    }

    [Fact]
    public async Task NoRouteMatches_Is404NoRoute()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.3", mesh);
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/items/3");
        request.Headers.Host = "helloworld";

        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no route", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains(gateway.Logs.GetSnapshot(), r => r.Message.StartsWith("No VirtualService route of helloworld.default.svc.cluster.local matches DELETE /items/3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WeightedCanary_Splits90To10()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.4", mesh);
        const int requests = 1000;

        var answers = new List<string>(requests);
        for (var i = 0; i < requests; i++)
        {
            answers.Add((await gateway.GetAsync("/canary")).Body);
        }

        var v1 = answers.Count(a => a == _pods["dev-v1"].Greeting);
        var v2 = answers.Count(a => a == _pods["dev-v2"].Greeting || a == _pods["prod-v2"].Greeting);
        Assert.Equal(requests, v1 + v2);
        Assert.InRange(v2, 60, 140); // 10% of 1,000 within 4 points: more than 4 standard deviations
    }

    [Fact]
    public async Task RouteRetries_RetryA503OnTheOtherPod_WhereARouteWithoutThemDoesNot()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.5", mesh);
        _pods["prod-v3-a"].FailWith = 503;
        try
        {
            var retried = new List<(HttpStatusCode, string)>();
            var plain = new List<HttpStatusCode>();
            for (var i = 0; i < 20; i++)
            {
                retried.Add(await gateway.GetAsync("/retried"));
            }

            // Apart: both routes share the prod-v3 pool's rotation, and interleaved each plain request drew the good pod.
            for (var i = 0; i < 4; i++)
            {
                plain.Add((await gateway.GetAsync("/plain")).Status);
            }

            Assert.All(retried, a => Assert.Equal((HttpStatusCode.OK, _pods["prod-v3-b"].Greeting), a));
            Assert.Contains(HttpStatusCode.ServiceUnavailable, plain); // round robin reaches the failing pod, and nothing retries
            Assert.Contains(gateway.Retries.GetMeasurementSnapshot(), m => (string?)m.Tags[RoutingTelemetryNames.RetryReasonTag] == "retriable-status");
        }
        finally
        {
            _pods["prod-v3-a"].FailWith = 0;
        }
    }

    [Fact]
    public async Task RouteRetries_WhenEveryTryFails_TheLastAnswerReachesTheClientAsSent()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.9", mesh);
        _pods["prod-v3-a"].FailWith = 503;
        _pods["prod-v3-b"].FailWith = 503;
        try
        {
            var before = _pods["prod-v3-a"].Hits + _pods["prod-v3-b"].Hits;

            Assert.Equal((HttpStatusCode.ServiceUnavailable, "failing"), await gateway.GetAsync("/retried"));
            Assert.Equal(3, _pods["prod-v3-a"].Hits + _pods["prod-v3-b"].Hits - before); // the first try and two retries
        }
        finally
        {
            _pods["prod-v3-a"].FailWith = 0;
            _pods["prod-v3-b"].FailWith = 0;
        }
    }

    [Fact]
    public async Task PerTryTimeout_GivesUpOnAHangingPod_AndTheOtherAnswers()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.6", mesh, o => o.PerTryTimeout = TimeSpan.FromMinutes(1));
        _pods["prod-v3-a"].Hang = true;
        try
        {
            var answers = new List<(HttpStatusCode, string)>();
            for (var i = 0; i < 6; i++)
            {
                answers.Add(await gateway.GetAsync("/per-try"));
            }

            // The gateway's own per-try timeout is a minute: only the route's 300 ms ends a try on the hanging pod.
            Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, _pods["prod-v3-b"].Greeting), a));
            Assert.Contains(gateway.Retries.GetMeasurementSnapshot(), m => (string?)m.Tags[RoutingTelemetryNames.RetryReasonTag] == "per-try-timeout");
        }
        finally
        {
            _pods["prod-v3-a"].Hang = false;
        }
    }

    [Fact]
    public async Task RouteTimeout_Ends_ARequestToAHangingPod_With504()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.7", mesh, o => o.Timeout = TimeSpan.FromMinutes(1));
        _pods["dev-v1"].Hang = true;
        try
        {
            Assert.Equal((HttpStatusCode.GatewayTimeout, "upstream request timeout"), await gateway.GetAsync("/deadline"));
        }
        finally
        {
            _pods["dev-v1"].Hang = false;
        }
    }

    [Fact]
    public async Task CookieAffinity_SetsTheCookie_AndFollowsIt()
    {
        using var mesh = new MeshFolder(_pods, Rule, Routes);
        await using var gateway = await Gateway("127.0.24.8", mesh);
        using var first = new HttpRequestMessage(HttpMethod.Get, "/sticky");
        first.Headers.Host = "helloworld";

        using var response = await gateway.Client.SendAsync(first, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.Matches("^affinity=[0-9a-f]{16}; Path=/; Max-Age=3600; HttpOnly$", cookie);

        var pair = cookie[..cookie.IndexOf(';', StringComparison.Ordinal)];
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal((HttpStatusCode.OK, body), await gateway.GetAsync("/sticky", headers: ("Cookie", pair)));
        }
    }
}
