using BenchmarkDotNet.Attributes;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// Routing a request through a service with outlier detection (so locality failover applies) over N endpoints in three
/// zones of two regions: with the caller's locality (the pick goes through the locality table: a level drawn by share,
/// then the level's own pick), against the same request without it (the baseline: the subset's plain pick).
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 10)]
[MemoryDiagnoser]
public class LocalityBenchmarks
{
    private static readonly string[] Zones = ["us-east/zone-a", "us-east/zone-b", "eu-west/zone-c"];
    private RoutedService _service = null!;
    private Dictionary<string, string> _headers = null!;
    private RouteRequest _local;
    private RouteRequest _plain;

    [Params(6, 1_000, 100_000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var endpoints = Synthetic.Endpoints(Endpoints).Select((e, i) =>
        {
            var zone = Locality.Parse(Zones[i % Zones.Length]);
            return e.WithLabels(e.Labels.Append(new(Locality.RegionLabel, zone.Region)).Append(new(Locality.ZoneLabel, zone.Zone)));
        });
        var policy = Synthetic.Policy();
        var withOutliers = new RoutingPolicy(policy.DynamicSubset, policy.HeaderMappings) { OutlierDetection = new OutlierDetectionPolicy() };
        _service = new RoutedService("svc", new SubsetResolver(SubsetIndex.Build(endpoints, withOutliers)));
        _headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-stage"] = "prod", ["x-version"] = "v3" };
        _plain = new RouteRequest("GET", "/");
        _local = _plain with { SourceLocality = Locality.Parse("us-east/zone-a") };
    }

    [Benchmark(Baseline = true)]
    public Endpoint? WithoutCallerLocality() => _service.Route(_plain, new DictionaryHeaderSource(_headers)).Resolution.Endpoint;

    [Benchmark]
    public Endpoint? WithCallerLocality() => _service.Route(_local, new DictionaryHeaderSource(_headers)).Resolution.Endpoint;
}
