using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// A request through the dynamic subset gateway against the same request through YARP's forwarder to a fixed
/// destination (what the gateway costs on top of forwarding), and straight to the backend. In-process Kestrel on
/// loopback, one connection pool each.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class GatewayBenchmarks
{
    private WebApplication _backend = null!;
    private WebApplication _plain = null!;
    private WebApplication _gateway = null!;
    private HttpClient _direct = null!;
    private HttpClient _viaPlain = null!;
    private HttpClient _viaGateway = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _backend = Loopback.App("127.0.0.41");
        _backend.MapGet("/", () => "ok");
        await _backend.StartAsync();
        var backend = new Uri(_backend.Urls.First());

        _plain = Loopback.App("127.0.0.42", s => s.AddHttpForwarder());
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None });
        var forwarder = _plain.Services.GetRequiredService<IHttpForwarder>();
        var prefix = backend.GetLeftPart(UriPartial.Authority);
        _plain.Map("/{**rest}", async (HttpContext c) => { await forwarder.SendAsync(c, prefix, invoker); });
        await _plain.StartAsync();

        var endpoint = Endpoint.Create("127.0.0.41", backend.Port, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" });
        _gateway = Loopback.App("127.0.0.43", s =>
        {
            s.AddSingleton<RoutingCatalog>(InMemoryRoutingCatalog.ForService("svc.default.svc.cluster.local", Synthetic.Policy(), [endpoint]));
            s.AddDynamicSubsetGateway();
        });
        _gateway.MapDynamicSubsetGateway();
        await _gateway.StartAsync();

        _direct = new HttpClient { BaseAddress = backend };
        _viaPlain = new HttpClient { BaseAddress = new Uri(_plain.Urls.First()) };
        _viaGateway = new HttpClient { BaseAddress = new Uri(_gateway.Urls.First()) };
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (var client in new[] { _direct, _viaPlain, _viaGateway })
        {
            client.Dispose();
        }

        foreach (var app in new[] { _gateway, _plain, _backend })
        {
            await app.DisposeAsync();
        }
    }

    [Benchmark]
    public Task<string> Direct() => Send(_direct);

    [Benchmark(Baseline = true)]
    public Task<string> YarpForwarderToFixedDestination() => Send(_viaPlain);

    [Benchmark]
    public Task<string> DynamicSubsetGateway() => Send(_viaGateway);

    private static async Task<string> Send(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("x-stage", "prod");
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }
}
