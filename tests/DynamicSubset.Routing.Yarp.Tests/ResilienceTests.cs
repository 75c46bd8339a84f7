using System.Net;
using System.Net.Sockets;
using System.Text;
using DynamicSubset.Routing.Http;
using DynamicSubset.Routing.Http.Tests;
using Microsoft.Extensions.Time.Testing;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// The gateway when pods fail: killed, hung, or answering 5xx. Real Kestrel pods on 127.0.21.x, a real gateway, real
/// sockets. prod/v3 (the default subset of the reference VirtualService) has two pods: prod-v3-a and prod-v3-b.
/// </summary>
public sealed class ResilienceTests : IAsyncLifetime
{
    private static readonly (string, string)[] ProdV3 = [("x-stage", "prod"), ("x-version", "v3")];
    private Helloworld _pods = null!;

    public async ValueTask InitializeAsync() => _pods = await Helloworld.StartAsync(block: 21);

    public async ValueTask DisposeAsync() => await _pods.DisposeAsync();

    [Fact]
    public async Task KilledPod_ItsRequestsAreRetriedOnItsSibling_NoneFail()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.1", mesh.Files);
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/", headers: ProdV3)).Status);

        await _pods["prod-v3-a"].KillAsync();
        var answers = new List<(HttpStatusCode, string)>();
        for (var i = 0; i < 40; i++)
        {
            answers.Add(await gateway.GetAsync("/", headers: ProdV3));
        }

        Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, _pods["prod-v3-b"].Greeting), a));
        var retries = gateway.Retries.GetMeasurementSnapshot();
        Assert.NotEmpty(retries); // least-request still picks the dead pod now and then: each such pick is retried
        Assert.All(retries, m => Assert.Equal("connect-failure", m.Tags[RoutingTelemetryNames.RetryReasonTag]));
    }

    [Fact]
    public async Task HungPod_CostsOnePerTryTimeout_AndTheRequestSucceedsOnItsSibling()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.2", mesh.Files, o => o.PerTryTimeout = TimeSpan.FromMilliseconds(300));
        _pods["prod-v3-a"].Hang = true;
        try
        {
            // Ties between idle pods are broken at random: send until the hung pod has been tried, within a bound.
            var hung = _pods["prod-v3-a"];
            var before = hung.Hits;
            var answers = new List<(HttpStatusCode, string)>();
            for (var i = 0; i < 8 || (hung.Hits == before && i < 200); i++)
            {
                answers.Add(await gateway.GetAsync("/", headers: ProdV3));
            }

            Assert.True(hung.Hits > before, "the hung pod was never tried: the test proves nothing");
            Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, _pods["prod-v3-b"].Greeting), a));
            Assert.Contains(gateway.Retries.GetMeasurementSnapshot(), m => (string?)m.Tags[RoutingTelemetryNames.RetryReasonTag] == "per-try-timeout");
        }
        finally
        {
            _pods["prod-v3-a"].Hang = false;
        }
    }

    [Fact]
    public async Task EveryPodHung_IsA504_AfterTheOverallTimeout()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.3", mesh.Files, o =>
        {
            o.PerTryTimeout = TimeSpan.FromMilliseconds(200);
            o.Timeout = TimeSpan.FromMilliseconds(300);
        });
        _pods["dev-v1"].Hang = true;
        try
        {
            Assert.Equal((HttpStatusCode.GatewayTimeout, "upstream request timeout"), await gateway.GetAsync("/", headers: [("x-stage", "dev"), ("x-version", "v1")]));
        }
        finally
        {
            _pods["dev-v1"].Hang = false;
        }
    }

    [Fact]
    public async Task FiveConsecutive503s_EjectThePod_AndItReturnsAfterBaseEjectionTime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule("""
                outlierDetection:
                  consecutive5xxErrors: 5
                  interval: 1s
                  baseEjectionTime: 30s
                  maxEjectionPercent: 50
            """));
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.4", mesh.Files, time: time);
        var a = _pods["prod-v3-a"];
        a.FailWith = 503;
        try
        {
            // A 503 from a pod is passed on (not retried); the fifth ejects it. The client sees each 503 a moment before
            // the loop reports it, so the test sends until it has seen five, then waits for the ejection.
            var (failures, before) = (0, a.Hits);
            for (var i = 0; i < 200 && failures < 5; i++)
            {
                failures += (await gateway.GetAsync("/", headers: ProdV3)).Status == HttpStatusCode.ServiceUnavailable ? 1 : 0;
            }

            Assert.Equal(5, failures);
            await Wait.Until(() => gateway.Catalog.Current.Services[0].Resolver.Ejections.Count == 1 && gateway.Ejections.GetMeasurementSnapshot().Count > 0, "the fifth 503 ejects the pod, counted once");
            Assert.Single(gateway.Ejections.GetMeasurementSnapshot());
            Assert.Equal(5, a.Hits - before);
            var hits = a.Hits;
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal((HttpStatusCode.OK, _pods["prod-v3-b"].Greeting), await gateway.GetAsync("/", headers: ProdV3));
            }

            Assert.Equal(hits, a.Hits);
            a.FailWith = 0;
            time.Advance(TimeSpan.FromSeconds(30));
            await Wait.Until(() => gateway.Catalog.Current.Services[0].Resolver.Ejections.Count == 0, "the pod returns");
            var seen = new HashSet<string>();
            for (var i = 0; i < 40; i++)
            {
                seen.Add((await gateway.GetAsync("/", headers: ProdV3)).Body);
            }

            Assert.Contains(a.Greeting, seen);
            Assert.Single(gateway.Logs.GetSnapshot(), r => r.Id.Id == 25);
        }
        finally
        {
            a.FailWith = 0;
        }
    }

    [Fact]
    public async Task EveryPodEjected_BelowMinHealthPercent_TrafficStillFlows()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule("""
                outlierDetection:
                  consecutive5xxErrors: 1
                  maxEjectionPercent: 100
                  minHealthPercent: 80
            """));
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.5", mesh.Files);
        var (a, b) = (_pods["prod-v3-a"], _pods["prod-v3-b"]);
        a.FailWith = b.FailWith = 500;
        try
        {
            var resolver = gateway.Catalog.Current.Services[0].Resolver;
            for (var i = 0; i < 50 && resolver.Ejections.Count < 2; i++)
            {
                await gateway.GetAsync("/", headers: ProdV3);
            }

            Assert.Equal(2, resolver.Ejections.Count);
            a.FailWith = b.FailWith = 0;
            var answers = new HashSet<(HttpStatusCode, string)>();
            for (var i = 0; i < 40; i++)
            {
                answers.Add(await gateway.GetAsync("/", headers: ProdV3));
            }

            // Panic: both ejected, yet both take traffic (not "no healthy upstream").
            Assert.Equal([(HttpStatusCode.OK, a.Greeting), (HttpStatusCode.OK, b.Greeting)], answers.OrderBy(x => x.Item2, StringComparer.Ordinal));
        }
        finally
        {
            a.FailWith = b.FailWith = 0;
        }
    }

    [Fact]
    public async Task RepeatedFailures_AreLoggedAtMostOnceASecond()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.6", mesh.Files);
        var started = Environment.TickCount64;

        for (var i = 0; i < 300; i++)
        {
            await gateway.GetAsync("/", headers: [("x-stage", "prod"), ("x-version", "v1")]); // no such subset: 503
        }

        var seconds = (Environment.TickCount64 - started) / 1000.0;
        var lines = gateway.Logs.GetSnapshot().Count(r => r.Id.Id == 20);
        Assert.InRange(lines, 1, (int)Math.Ceiling(seconds) + 1);
        Assert.Contains("more like it in the last second", gateway.Logs.GetSnapshot().Last(r => r.Id.Id == 20).Message, StringComparison.Ordinal);
        Assert.Equal(300, gateway.Resolutions.GetMeasurementSnapshot().Count(m => (string?)m.Tags[RoutingTelemetryNames.OutcomeTag] == "no_healthy_upstream"));
    }

    [Fact]
    public async Task PathAndMethod_AreForwardedExactlyAsReceived()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.7", mesh.Files);

        var encoded = await RawAsync(gateway.Address, "GET /raw/a/..%2fb/%25?q=%20x&r=a%2Fb HTTP/1.1\r\nHost: helloworld\r\nx-stage: dev\r\nx-version: v1\r\nConnection: close\r\n\r\n");
        var dotted = await RawAsync(gateway.Address, "DELETE /raw/a/./b/../c HTTP/1.1\r\nHost: helloworld\r\nx-stage: dev\r\nx-version: v1\r\nConnection: close\r\n\r\n");
        var asterisk = await RawAsync(gateway.Address, "OPTIONS * HTTP/1.1\r\nHost: helloworld\r\nConnection: close\r\n\r\n");

        // The backend echoes the target it received (the body comes chunked: framing lines around it).
        Assert.Contains($"\r\nGET /raw/a/..%2fb/%25?q=%20x&r=a%2Fb x-note= x-stage=dev ip={_pods["dev-v1"].Ip}\r\n", encoded, StringComparison.Ordinal);
        Assert.Contains($"\r\nDELETE /raw/a/./b/../c x-note= x-stage=dev ip={_pods["dev-v1"].Ip}\r\n", dotted, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", asterisk, StringComparison.Ordinal);
        Assert.Contains("Allow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS\r\n", asterisk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonAsciiHeaderValue_ThatKestrelAccepts_IsForwarded_NotA502()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.8", mesh.Files);

        var response = await RawAsync(gateway.Address, "GET /raw/x HTTP/1.1\r\nHost: helloworld\r\nx-note: café ☕\r\nx-stage: dev\r\nx-version: v1\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.Contains($"\r\nGET /raw/x x-note=café ☕ x-stage=dev ip={_pods["dev-v1"].Ip}\r\n", response, StringComparison.Ordinal);
        Assert.DoesNotContain(gateway.Logs.GetSnapshot(), r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task TrustedValues_AValueOutsideTheList_CountsAsAbsent()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.9", mesh.Files, o => o.TrustedValues["x-stage"] = new HashSet<string>(StringComparer.Ordinal) { "prod" });

        var (status, body) = await gateway.GetAsync("/", headers: [("x-stage", "dev"), ("x-version", "v2")]);

        // x-stage: dev is not trusted, so x-stage takes its default (prod): prod/v2.
        Assert.Equal((HttpStatusCode.OK, _pods["prod-v2"].Greeting), (status, body));
    }

    [Fact]
    public async Task UntrustedCallers_RoutingHeadersAreIgnored_AndRemovedBeforeForwarding()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.10", mesh.Files, o => o.TrustedNetworks.Add(IPNetwork.Parse("10.0.0.0/8")));

        var (status, body) = await gateway.GetAsync("/raw/x", headers: [("x-stage", "dev"), ("x-version", "v1"), ("x-note", "kept")]);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("GET /raw/x x-note=kept x-stage= ip=127.0.21.1", body, StringComparison.Ordinal); // prod/v3, and no x-stage
        Assert.Contains(body[^11..], new[] { _pods["prod-v3-a"].Ip, _pods["prod-v3-b"].Ip });
    }

    [Fact]
    public async Task AdminExplain_BehindTrustedNetworks_DecidesAsTheGatewayRoutes()
    {
        // Regression: explain read the routing headers of any caller, so it said dev/v1 where the gateway, which ignores
        // an untrusted caller's routing headers, sent the same request to prod/v3.
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.30", mesh.Files, o => o.TrustedNetworks.Add(IPNetwork.Parse("10.0.0.0/8")));
        (string, string)[] headers = [("x-stage", "dev"), ("x-version", "v1")];

        var (status, body) = await gateway.GetAsync("/", headers: headers);
        var routed = _pods.Pods.Single(p => body.EndsWith(p.Ip, StringComparison.Ordinal) || body.Contains($"ip: {p.Ip}", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, status);
        var untrusted = await ExplainAsync(gateway, """{"service": "helloworld", "headers": {"x-stage": "dev", "x-version": "v1"}, "sourceIp": "127.0.21.1"}""");
        Assert.Equal($"stage={routed.Stage}, version={routed.Version}", Pairs(untrusted.GetProperty("subset")));
        Assert.Equal("stage=prod, version=v3", Pairs(untrusted.GetProperty("subset")));

        // The same headers from a trusted caller count: explain says so, as the gateway would route it.
        var trusted = await ExplainAsync(gateway, """{"service": "helloworld", "headers": {"x-stage": "dev", "x-version": "v1"}, "sourceIp": "10.1.2.3"}""");
        Assert.Equal("stage=dev, version=v1", Pairs(trusted.GetProperty("subset")));
    }

    private static string Pairs(System.Text.Json.JsonElement subset) =>
        string.Join(", ", subset.EnumerateObject().Select(static p => $"{p.Name}={p.Value.GetString()}"));

    private static async Task<System.Text.Json.JsonElement> ExplainAsync(GatewayHarness gateway, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await gateway.Client.PostAsync("/debug/dynamic-subsets/explain", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task UnknownHost_WithTwoServices_IsA404NoRoute()
    {
        using var mesh = new MeshFolder(_pods, MeshFolder.DestinationRule());
        File.AppendAllText(mesh.Rule, "---\n" + MeshFolder.DestinationRule().Replace("helloworld", "other", StringComparison.Ordinal));
        await using var gateway = await GatewayHarness.StartAsync("127.0.21.11", mesh.Files);

        Assert.Equal((HttpStatusCode.NotFound, "no route"), await gateway.GetAsync("/", host: "nosuch.example"));
        Assert.Contains(gateway.Resolutions.GetMeasurementSnapshot(), m => (string?)m.Tags[RoutingTelemetryNames.OutcomeTag] == "no_route");
    }

    /// <summary>Sends bytes as written (UTF-8) on a fresh connection and reads the whole response.</summary>
    internal static async Task<string> RawAsync(Uri address, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
    }
}
