using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using DynamicSubset.Routing.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// What the shared pipeline adds to a request that falls back (no subset matched), on the seed topology: the resolve
/// alone (baseline), the pipeline's decision (metrics, and the recent-decisions record at most 100 a second), and the
/// decision with an explanation for every request, as the pipeline did before the recent decisions were capped.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 12)]
public class DecisionBenchmarks
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase) { ["x-stage"] = "qa", ["x-version"] = "v9" };
    private ServiceProvider _services = null!;
    private RoutingPipeline _pipeline = null!;
    private RoutedService _service = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _pipeline = new RoutingPipeline(new RoutingTelemetry(_services.GetRequiredService<IMeterFactory>()), NullLogger.Instance, TimeProvider.System);
        var policy = new RoutingPolicy(
            new DynamicSubsetPolicy([new SubsetSelector(["stage", "version"], FallbackPolicy.AnyEndpoint)]),
            [new HeaderMapping("x-version", "version"), new HeaderMapping("x-stage", "stage")]);
        var endpoints = new[] { ("dev", "v1"), ("dev", "v2"), ("prod", "v2"), ("prod", "v3"), ("prod", "v3") }
            .Select((p, i) => Endpoint.Create($"10.0.0.{i + 1}", 80, new Dictionary<string, string> { ["stage"] = p.Item1, ["version"] = p.Item2 }));
        _service = new RoutedService("helloworld", new SubsetResolver(SubsetIndex.Build(endpoints, policy)), ["helloworld"], "benchmark");
    }

    private static readonly RouteRequest Root = new("GET", "/");

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true)]
    public Resolution Resolve() => _service.Resolver.Resolve(_headers);

    [Benchmark]
    public Resolution Decide() => _pipeline.Decide(_service, Root, new DictionaryHeaderSource(_headers), activity: null).Resolution;

    [Benchmark]
    public Explanation DecideAndExplainEach()
    {
        var resolution = _pipeline.Decide(_service, Root, new DictionaryHeaderSource(_headers), activity: null).Resolution;
        return Explanation.Of(_service.Name, _service.Resolver.Current, new DictionaryHeaderSource(_headers), resolution);
    }
}
