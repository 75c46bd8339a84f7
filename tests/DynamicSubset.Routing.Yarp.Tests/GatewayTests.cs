using System.Net;
using System.Text.Json;
using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Http.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// A real Kestrel gateway (MapDynamicSubsetGateway on YARP's forwarder) in front of real Kestrel pods on 127.0.5.x,
/// driven by the reference page's YAML with requests that carry Host: helloworld:8000.
/// </summary>
public sealed class GatewayTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-gw-").FullName;
    private Helloworld _pods = null!;
    private WebApplication _gateway = null!;
    private HttpClient _client = null!;

    private string RuleFile => Path.Combine(_dir, "rule.yaml");

    private MeshConfigurationWatcher Watcher => (MeshConfigurationWatcher)_gateway.Services.GetRequiredService<RoutingCatalog>();

    public async ValueTask InitializeAsync()
    {
        _pods = await Helloworld.StartAsync(block: 5);
        File.WriteAllText(Path.Combine(_dir, "pods.yaml"), _pods.PodListYaml());
        File.Copy(Reference("dr-step2.yaml"), RuleFile);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.5.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDynamicSubsetCatalogFromFiles([Path.Combine(_dir, "pods.yaml"), Reference("service.yaml"), RuleFile, Reference("vs-step2.yaml")]);
        builder.Services.AddDynamicSubsetGateway();
        _gateway = builder.Build();
        _gateway.MapDynamicSubsetDebug();
        _gateway.MapDynamicSubsetGateway();
        await _gateway.StartAsync(TestContext.Current.CancellationToken);
        _client = new HttpClient { BaseAddress = new Uri(_gateway.Urls.First()) };
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _pods.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Reference(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "reference", name);

    private async Task<(HttpStatusCode Status, string Body)> Get(string path, string host, params (string, string)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private async Task Apply(string referenceRule)
    {
        var version = Watcher.Version;
        await File.WriteAllTextAsync(RuleFile, await File.ReadAllTextAsync(Reference(referenceRule), TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        await Eventually(() => Watcher.Version > version);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not met in time");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Walkthrough_ThroughTheGateway_WithHostHelloworld8000()
    {
        var devV1 = new[] { ("x-stage", "dev"), ("x-version", "v1") };
        var prodV1 = new[] { ("x-stage", "prod"), ("x-version", "v1") };

        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await Get("/", "helloworld:8000", devV1));
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await Get("/", "helloworld.default.svc.cluster.local", devV1));

        await Apply("dr-no-fallback.yaml");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await Get("/", "helloworld:8000", prodV1));

        await Apply("dr-any-endpoint.yaml");
        Assert.Contains((await Get("/", "helloworld:8000", ("x-stage", "prod"))).Body, new[] { _pods["prod-v3-a"].Greeting, _pods["prod-v3-b"].Greeting });
        Assert.Equal(HttpStatusCode.OK, (await Get("/", "helloworld:8000", prodV1)).Status);

        await Apply("dr-default-subset.yaml");
        for (var i = 0; i < 5; i++)
        {
            Assert.Contains((await Get("/", "helloworld:8000", prodV1)).Body, new[] { _pods["prod-v3-a"].Greeting, _pods["prod-v3-b"].Greeting });
        }
    }

    [Fact]
    public async Task Reload_WhileABoundedRequestLoopRuns_NoRequestFailsOrIsMisrouted()
    {
        var devV1 = new[] { ("x-stage", "dev"), ("x-version", "v1") };
        var failures = new List<string>();
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && sent < 2000)
            {
                var (status, body) = await Get("/", "helloworld:8000", devV1);
                Interlocked.Increment(ref sent);
                if (status != HttpStatusCode.OK || body != _pods["dev-v1"].Greeting)
                {
                    failures.Add($"{status} {body}");
                }
            }
        }, TestContext.Current.CancellationToken);

        // Every variant routes dev/v1 to the dev-v1 pod, so any other answer is a dropped or misrouted request. Requests
        // are under way before each reload and after it (waited for, not timed: a loaded machine may start the loop late).
        await Eventually(() => Volatile.Read(ref sent) >= 5 || load.IsCompleted);
        foreach (var rule in new[] { "dr-any-endpoint.yaml", "dr-no-fallback.yaml", "dr-default-subset.yaml", "dr-step2.yaml", "dr-any-endpoint.yaml" })
        {
            await Apply(rule);
            var after = Volatile.Read(ref sent);
            await Eventually(() => Volatile.Read(ref sent) >= after + 5 || load.IsCompleted);
        }

        await stop.CancelAsync();
        await load;
        Assert.Empty(failures);
        Assert.True(sent >= 30, $"only {sent} requests overlapped the reloads");
    }

    [Fact]
    public async Task BrokenEdit_KeepsServing_AndTheDebugViewShowsTheError()
    {
        var version = Watcher.Version;
        await File.WriteAllTextAsync(RuleFile, "spec: [unclosed\n", TestContext.Current.CancellationToken);
        await Eventually(() => Watcher.LastError is not null);

        Assert.Equal(version, Watcher.Version);
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await Get("/", "helloworld:8000", ("x-stage", "dev"), ("x-version", "v1")));

        var (status, json) = await Get("/debug/dynamic-subsets", "admin");
        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(json);
        var catalog = doc.RootElement.GetProperty("catalogs")[0];
        Assert.Equal(version, catalog.GetProperty("version").GetInt64());
        Assert.Equal("synced", catalog.GetProperty("syncState").GetString());
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(RuleFile)}:\d+:\d+: DSR1001$", catalog.GetProperty("lastError").GetProperty("where")[0].GetString());
        Assert.DoesNotContain("unclosed", json, StringComparison.Ordinal); // positions, never the rejected content
        var service = doc.RootElement.GetProperty("services")[0];
        Assert.Equal("helloworld.default.svc.cluster.local", service.GetProperty("host").GetString());
        Assert.Equal(5, service.GetProperty("subsets").GetArrayLength());
        Assert.Equal("stage=dev, version=v1", service.GetProperty("subsets")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Shutdown_LetsARequestInFlightFinish()
    {
        var slow = Get("/slow", "helloworld:8000", ("x-stage", "dev"), ("x-version", "v1"));
        await Task.Delay(150, TestContext.Current.CancellationToken);

        await _gateway.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await slow);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => Get("/", "helloworld:8000"));
    }
}
