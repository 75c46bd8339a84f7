using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// A GET through the gateway on a plain route (the baseline) against the same GET on a route with a rewrite and header
/// operations on the request and the response: what those fields cost per request. In-process Kestrel on loopback.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class RouteActionBenchmarks
{
    private WebApplication _backend = null!;
    private WebApplication _gateway = null!;
    private HttpClient _client = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _backend = Loopback.App("127.0.0.61");
        _backend.MapGet("/{**rest}", () => "ok");
        await _backend.StartAsync();
        var port = new Uri(_backend.Urls.First()).Port;

        var pool = new RoutedService("app.default.svc.cluster.local", new SubsetResolver(SubsetIndex.Build([Endpoint.Create("127.0.0.61", port)], new RoutingPolicy(DynamicSubsetPolicy.None, []))));
        var service = new RoutedService(pool.Name, pool.Resolver)
        {
            Routes =
            [
                new HttpRouteRule([new RouteDestination(pool.Name, null, pool)], [new HttpRouteMatch { Uri = StringMatch.Prefix("/api/") }])
                {
                    Rewrite = new HttpRewrite { Uri = "/v1/" },
                    Headers = new HttpHeaderRules
                    {
                        Request = new HeaderOperations { Set = [new("x-tenant", "blue")], Remove = ["x-debug"] },
                        Response = new HeaderOperations { Set = [new("x-served-by", "gateway")], Remove = ["server"] },
                    },
                },
                new HttpRouteRule([new RouteDestination(pool.Name, null, pool)]),
            ],
        };
        _gateway = Loopback.App("127.0.0.62", s =>
        {
            s.AddSingleton<RoutingCatalog>(new Loopback.OneService(service));
            s.AddDynamicSubsetGateway();
        });
        _gateway.MapDynamicSubsetGateway();
        await _gateway.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri(_gateway.Urls.First()) };
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public Task<string> PlainRoute() => _client.GetStringAsync("/items/1");

    [Benchmark]
    public Task<string> RewriteAndHeaders() => _client.GetStringAsync("/api/items/1");
}
