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
using Microsoft.Extensions.Logging.Testing;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>A real Kestrel gateway on its own loopback address over mesh files, with its metrics and logs collected.</summary>
internal sealed class GatewayHarness : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHarness(WebApplication app, FakeLogCollector logs)
    {
        _app = app;
        Logs = logs;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        Resolutions = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Resolutions);
        Retries = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Retries);
        Ejections = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Ejections);
        Overflows = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Overflows);
    }

    public MetricCollector<long> Overflows { get; }

    public HttpClient Client { get; }

    public Uri Address => Client.BaseAddress!;

    public FakeLogCollector Logs { get; }

    public MetricCollector<long> Resolutions { get; }

    public MetricCollector<long> Retries { get; }

    public MetricCollector<long> Ejections { get; }

    public RoutingCatalog Catalog => _app.Services.GetRequiredService<RoutingCatalog>();

    public static async Task<GatewayHarness> StartAsync(
        string ip, string[] files, Action<DynamicSubsetGatewayOptions>? configure = null, TimeProvider? time = null, Action<WebApplication>? map = null)
    {
        var logs = new FakeLogCollector();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{ip}:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Information);
        builder.Services.AddDynamicSubsetCatalogFromFiles(files, o => o.TimeProvider = time ?? TimeProvider.System);
        builder.Services.AddDynamicSubsetGateway(configure);
        var app = builder.Build();
        app.MapDynamicSubsetDebug();
        map?.Invoke(app);
        app.MapDynamicSubsetGateway();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new GatewayHarness(app, logs);
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, string host = "helloworld:8000", params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        Resolutions.Dispose();
        Retries.Dispose();
        Ejections.Dispose();
        Overflows.Dispose();
        Client.Dispose();
        await _app.DisposeAsync();
    }
}

/// <summary>Mesh files in a temporary folder: the helloworld pods, the reference Service and VirtualService, and a DestinationRule.</summary>
internal sealed class MeshFolder : IDisposable
{
    public MeshFolder(Helloworld pods, string destinationRule, string? virtualService = null)
    {
        File.WriteAllText(Pods, pods.PodListYaml());
        File.WriteAllText(Rule, destinationRule);
        if (virtualService is not null)
        {
            File.WriteAllText(VirtualService, virtualService);
        }
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("dsr-mesh-").FullName;

    public string Pods => Path.Combine(Directory, "pods.yaml");

    public string Rule => Path.Combine(Directory, "rule.yaml");

    public string VirtualService => Path.Combine(Directory, "vs.yaml");

    public string[] Files => [Pods, Reference("service.yaml"), Rule, File.Exists(VirtualService) ? VirtualService : Reference("vs-step2.yaml")];

    public static string Reference(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "reference", name);

    /// <summary>The reference DestinationRule, with a trafficPolicy addition (indented under trafficPolicy).</summary>
    public static string DestinationRule(string trafficPolicyExtra = "", string fallback = "") => $"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {"{"}name: helloworld, namespace: default{"}"}
        spec:
          host: helloworld.default.svc.cluster.local
          trafficPolicy:
        {trafficPolicyExtra}
            loadBalancer:
              dynamicSubset:
                subsetSelectors:
                  - keys: [stage, version]
        {fallback}
        """;

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

internal static class Wait
{
    /// <summary>Waits for a condition, polling; fails after 10 s.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"not met in 10 s: {what}");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
