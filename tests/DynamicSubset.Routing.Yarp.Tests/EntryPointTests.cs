using System.Diagnostics.Metrics;
using System.Net;
using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Http;
using DynamicSubset.Routing.Http.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// Every source of a routing catalog through every entry point: the HttpClient handler, the gateway, the YARP step and
/// the admin view all take the one catalog, and decide, record and log a request the same way.
/// </summary>
public sealed class EntryPointTests : IAsyncLifetime
{
    private Helloworld _pods = null!;
    private string _dir = null!;

    public async ValueTask InitializeAsync()
    {
        _pods = await Helloworld.StartAsync(block: 22);
        _dir = Directory.CreateTempSubdirectory("dsr-entry-").FullName;
        File.WriteAllText(Path.Combine(_dir, "pods.yaml"), _pods.PodListYaml());
    }

    public async ValueTask DisposeAsync()
    {
        await _pods.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string> Sources => ["files", "options", "in-memory", "endpoint-source"];

    private static RoutingPolicy Policy => new(
        new DynamicSubsetPolicy([new SubsetSelector(["stage", "version"])]),
        [new HeaderMapping("x-version", "version", "v3"), new HeaderMapping("x-stage", "stage", "prod")]);

    [Theory]
    [MemberData(nameof(Sources))]
    public async Task EachSource_ThroughEachEntryPoint_RoutesTheSame(string source)
    {
        await using var app = await StartAsync(source, $"127.0.22.{2 + Sources.Select(s => s.Data).ToList().IndexOf(source)}");
        (string, string)[] devV1 = [("x-stage", "dev"), ("x-version", "v1")];
        var expected = (HttpStatusCode.OK, _pods["dev-v1"].Greeting);

        Assert.Equal(expected, await ViaHandler(app, devV1));
        Assert.Equal(expected, await ViaGateway(app, "/", devV1));
        Assert.Equal(expected, await ViaGateway(app, "/yarp/", devV1));
        var (status, debug) = await ViaGateway(app, "/debug/dynamic-subsets");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"stage=dev, version=v1\"", debug, StringComparison.Ordinal);
        Assert.Contains("\"syncState\": \"synced\"", debug, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSameFailingRequest_ThroughHandlerGatewayAndYarp_RecordsTheSameMetrics()
    {
        await using var app = await StartAsync("files", "127.0.22.1");
        using var resolutions = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Resolutions);
        (string, string)[] prodV1 = [("x-stage", "prod"), ("x-version", "v1")]; // no such pod, NO_FALLBACK

        string Last()
        {
            var m = resolutions.GetMeasurementSnapshot()[^1];
            return string.Join(", ", m.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")) + $" +{m.Value}";
        }

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await ViaHandler(app, prodV1));
        var handler = Last();
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await ViaGateway(app, "/", prodV1));
        var gateway = Last();
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await ViaGateway(app, "/yarp/", prodV1));
        var yarp = Last();

        Assert.Equal("dynamic_subset.fallback.policy=NO_FALLBACK, dynamic_subset.fallback.scope=global, dynamic_subset.outcome=no_healthy_upstream, dynamic_subset.service=helloworld.default.svc.cluster.local +1", handler);
        Assert.Equal(handler, gateway);
        Assert.Equal(handler, yarp);
        Assert.Equal(3, resolutions.GetMeasurementSnapshot().Count);
    }

    private async Task<WebApplication> StartAsync(string source, string ip)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{ip}:0");
        builder.Logging.ClearProviders();
        var services = builder.Services;
        switch (source)
        {
            case "files":
                services.AddDynamicSubsetCatalogFromFiles([Path.Combine(_dir, "pods.yaml"), MeshFolder.Reference("service.yaml"), MeshFolder.Reference("dr-step2.yaml"), MeshFolder.Reference("vs-step2.yaml")]);
                break;
            case "options":
                services.AddDynamicSubsetRoutingOptions("helloworld", o =>
                {
                    var selector = new SubsetSelectorOptions();
                    selector.Keys.Add("stage");
                    selector.Keys.Add("version");
                    o.TrafficPolicy.LoadBalancer.DynamicSubset.SubsetSelectors.Add(selector);
                    o.HeaderToDynamicSubsetKey.Add(new() { Header = "x-version", Key = "version", DefaultValue = "v3" });
                    o.HeaderToDynamicSubsetKey.Add(new() { Header = "x-stage", Key = "stage", DefaultValue = "prod" });
                    foreach (var pod in _pods.Pods)
                    {
                        var endpoint = new EndpointOptions { Address = pod.Ip, Port = Helloworld.Port };
                        endpoint.Labels["stage"] = pod.Stage;
                        endpoint.Labels["version"] = pod.Version;
                        o.Endpoints.Add(endpoint);
                    }
                });
                services.AddSingleton<RoutingCatalog>(sp => new OptionsRoutingCatalog(sp.GetRequiredKeyedService<OptionsSubsetResolver>("helloworld")));
                break;
            case "in-memory":
                services.AddSingleton<RoutingCatalog>(InMemoryRoutingCatalog.ForService("helloworld", Policy, _pods.Pods.Select(p => p.ToEndpoint())));
                break;
            default:
                services.AddSingleton<RoutingCatalog>(new EndpointSourceRoutingCatalog("helloworld", Policy, new FixedSource(_pods.Pods.Select(p => p.ToEndpoint()))));
                break;
        }

        services.AddDynamicSubsetGateway();
        services.AddDynamicSubsetYarp();
        services.AddHttpClient("helloworld", c => c.BaseAddress = new Uri("http://helloworld:8000")).AddDynamicSubsetRouting();
        services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "yarp", ClusterId = "helloworld", Match = new RouteMatch { Path = "/yarp/{**rest}" } }],
            [new ClusterConfig
            {
                ClusterId = "helloworld",
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
        app.MapDynamicSubsetGateway();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static async Task<(HttpStatusCode, string)> ViaHandler(WebApplication app, params (string, string)[] headers)
    {
        var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("helloworld");
        return await SendAsync(client, new Uri("/", UriKind.Relative), null, headers);
    }

    private static async Task<(HttpStatusCode, string)> ViaGateway(WebApplication app, string path, params (string, string)[] headers)
    {
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return await SendAsync(client, new Uri(path, UriKind.Relative), "helloworld:8000", headers);
    }

    private static async Task<(HttpStatusCode, string)> SendAsync(HttpClient client, Uri path, string? host, (string, string)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private sealed class FixedSource(IEnumerable<Endpoint> endpoints) : IEndpointSource
    {
        public IDisposable Start(IEndpointPublisher publisher)
        {
            publisher.ReplaceEndpoints(endpoints);
            return new CancellationTokenSource();
        }
    }
}
