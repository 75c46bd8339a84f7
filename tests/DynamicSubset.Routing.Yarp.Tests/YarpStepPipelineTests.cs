using System.Net;
using System.Text;
using System.Text.Json;
using DynamicSubset.Routing.Http.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// The YARP step runs the pipeline's one attempt loop: a route's retries and timeouts apply through YARP as through the
/// gateway, and its outlier state lives in a catalog the admin view shows. Real YARP, real Kestrel pods on 127.0.27.x.
/// </summary>
public sealed class YarpStepPipelineTests : IAsyncLifetime
{
    private const string Routes = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: helloworld, namespace: default}
        spec:
          host: helloworld.default.svc.cluster.local
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100, minHealthPercent: 0}
          subsets:
            - {name: prod-v3, labels: {stage: prod, version: v3}}
            - {name: v1, labels: {version: v1}}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: helloworld, namespace: default}
        spec:
          hosts: [helloworld]
          http:
            - name: retried
              match: [{uri: {prefix: /retried}}]
              route: [{destination: {host: helloworld, subset: prod-v3}}]
              retries: {attempts: 2, retryOn: "5xx"}
            - name: per-try
              match: [{uri: {prefix: /per-try}}]
              route: [{destination: {host: helloworld, subset: prod-v3}}]
              retries: {attempts: 1, perTryTimeout: 300ms, retryOn: "gateway-error"}
              timeout: 10s
            - name: deadline
              match: [{uri: {prefix: /deadline}}]
              route: [{destination: {host: helloworld, subset: v1}}]
              timeout: 400ms
            - name: plain
              route: [{destination: {host: helloworld, subset: prod-v3}}]
        """;

    private Helloworld _pods = null!;
    private string _dir = null!;

    public async ValueTask InitializeAsync()
    {
        _pods = await Helloworld.StartAsync(block: 27);
        _dir = Directory.CreateTempSubdirectory("dsr-yarp-step-").FullName;
        File.WriteAllText(Path.Combine(_dir, "pods.yaml"), _pods.PodListYaml());
        File.WriteAllText(Path.Combine(_dir, "mesh.yaml"), Routes);
    }

    public async ValueTask DisposeAsync()
    {
        await _pods.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task RouteRetries_A503IsRetriedOnTheSibling_AndTheClientNeverSeesIt()
    {
        await using var app = await StartAsync("127.0.28.1");
        using var client = Client(app);
        var (a, b) = (_pods["prod-v3-a"], _pods["prod-v3-b"]);
        a.FailWith = 503;

        // YARP's round robin picks a first half the time; every answer is still b's.
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal((HttpStatusCode.OK, b.Greeting), await GetAsync(client, "/retried"));
        }

        Assert.True(a.Hits > 0, "the failing pod was never tried: the test proves nothing");
    }

    [Fact]
    public async Task RoutePerTryTimeout_AHangingPodIsLeftForItsSibling_AndRouteTimeoutIs504()
    {
        await using var app = await StartAsync("127.0.28.2");
        using var client = Client(app);
        var (a, b) = (_pods["prod-v3-a"], _pods["prod-v3-b"]);
        a.Hang = true;

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal((HttpStatusCode.OK, b.Greeting), await GetAsync(client, "/per-try"));
        }

        Assert.True(a.Hits > 0, "the hanging pod was never tried: the test proves nothing");

        _pods["dev-v1"].Hang = true; // the only v1 pod
        Assert.Equal((HttpStatusCode.GatewayTimeout, "upstream request timeout"), await GetAsync(client, "/deadline"));
    }

    [Fact]
    public async Task Ejection_MadeByTheYarpStep_ShowsInTheAdminJson()
    {
        await using var app = await StartAsync("127.0.28.3");
        using var client = Client(app);
        var a = _pods["prod-v3-a"];
        a.FailWith = 500;

        // consecutive5xxErrors: 1, so the first 500 that a's try answers ejects it; plain routes do not retry.
        for (var i = 0; i < 10 && a.Hits == 0; i++)
        {
            await GetAsync(client, "/plain");
        }

        Assert.True(a.Hits > 0, "the failing pod was never tried");
        using var debug = JsonDocument.Parse(await client.GetStringAsync("/debug/dynamic-subsets", TestContext.Current.CancellationToken));
        var yarp = debug.RootElement.GetProperty("catalogs").EnumerateArray().Single(c => c.GetProperty("source").GetString() == "YARP cluster destinations");
        Assert.Equal(["helloworld.default.svc.cluster.local/prod-v3"], yarp.GetProperty("services").EnumerateArray().Select(s => s.GetString()));
        var ejected = debug.RootElement.GetProperty("services").EnumerateArray()
            .SelectMany(s => Endpoints(s))
            .Where(e => e.TryGetProperty("ejected", out _))
            .Select(e => e.GetProperty("address").GetString())
            .Distinct();
        Assert.Equal([$"{a.Ip}:{Helloworld.Port}"], ejected);
    }

    private static IEnumerable<JsonElement> Endpoints(JsonElement node) => node.ValueKind switch
    {
        JsonValueKind.Object when node.TryGetProperty("address", out _) && node.TryGetProperty("routable", out _) => [node],
        JsonValueKind.Object => node.EnumerateObject().SelectMany(p => Endpoints(p.Value)),
        JsonValueKind.Array => node.EnumerateArray().SelectMany(Endpoints),
        _ => [],
    };

    private async Task<WebApplication> StartAsync(string ip)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{ip}:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDynamicSubsetCatalogFromFiles([Path.Combine(_dir, "pods.yaml"), MeshFolder.Reference("service.yaml"), Path.Combine(_dir, "mesh.yaml")]);
        builder.Services.AddDynamicSubsetYarp();
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "helloworld", Match = new RouteMatch { Path = "/{**rest}" } }],
            [new ClusterConfig
            {
                ClusterId = "helloworld",
                LoadBalancingPolicy = "RoundRobin",
                Destinations = _pods.Pods.ToDictionary(
                    p => p.Name,
                    p => new DestinationConfig { Address = $"http://{p.Ip}:{Helloworld.Port}", Metadata = new Dictionary<string, string> { ["stage"] = p.Stage, ["version"] = p.Version } }),
            }]);
        var app = builder.Build();
        app.MapDynamicSubsetDebug();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseDynamicSubsets();
            proxy.UseLoadBalancing();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static HttpClient Client(WebApplication app) => new() { BaseAddress = new Uri(app.Urls.First()) };

    private static async Task<(HttpStatusCode, string)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
