using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// Requests through the dynamic subset handler against the same HttpClient pipeline calling the endpoint directly,
/// with in-process Kestrel on loopback. Requests per second = 1 / mean.
/// </summary>
// Requests are sent from the thread pool, as a service's request handlers send them, 16 one after another per
// invocation. Sent from BenchmarkDotNet's blocked main thread instead, each request rents the attempt loop's pooled
// state machine on that thread and returns it on a pool thread, so the pool rarely refills and the allocation figure
// flipped between runs (4.82 KB and 5.51 KB for the same build). 256 invocations of 16 an iteration: over the default
// (about a thousand) Kestrel's timers in the same process moved the figure too.
[SimpleJob(warmupCount: 3, iterationCount: 15, invocationCount: 256)]
public class HandlerBenchmarks
{
    private WebApplication _server = null!;
    private ServiceProvider _services = null!;
    private HttpClient _direct = null!;
    private HttpClient _routed = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.31:0");
        builder.Logging.ClearProviders();
        _server = builder.Build();
        _server.MapGet("/", () => "ok");
        await _server.StartAsync();
        var port = new Uri(_server.Urls.First()).Port;

        var endpoint = Endpoint.Create("127.0.0.31", port, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" });
        var services = new ServiceCollection();
        services.AddHttpClient("direct", c => c.BaseAddress = new Uri($"http://127.0.0.31:{port}"));
        services.AddHttpClient("routed", c => c.BaseAddress = new Uri("http://svc.default.svc.cluster.local:8080"))
            .AddDynamicSubsetRouting(Synthetic.Policy(), [endpoint]);
        _services = services.BuildServiceProvider();
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _direct = factory.CreateClient("direct");
        _routed = factory.CreateClient("routed");
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    private const int Sequential = 16;

    [Benchmark(Baseline = true, OperationsPerInvoke = Sequential)]
    public Task Direct() => Task.Run(() => SendMany(_direct));

    [Benchmark(OperationsPerInvoke = Sequential)]
    public Task ThroughHandler() => Task.Run(() => SendMany(_routed));

    private static async Task SendMany(HttpClient client)
    {
        for (var i = 0; i < Sequential; i++)
        {
            await Send(client).ConfigureAwait(false);
        }
    }

    private static async Task<string> Send(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("x-stage", "prod");
        using var response = await client.SendAsync(request).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync().ConfigureAwait(false);
    }
}
