using System.Collections.Frozen;
using BenchmarkDotNet.Attributes;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// Resolving one request on the reference page's seed topology (stage x version, six pods), against a
/// hand-written LINQ filter and against a floor that does the least work possible.
/// </summary>
public class ResolveBenchmarks
{
    private SubsetResolver _resolver = null!;
    private Dictionary<string, string> _headers = null!;
    private Endpoint[] _endpoints = null!;
    private FrozenDictionary<(string, string), Endpoint[]> _floorTable = null!;
    private int _floorNext;

    [GlobalSetup]
    public void Setup()
    {
        _endpoints = SeedTopology.Endpoints();
        _resolver = new SubsetResolver(SubsetIndex.Build(_endpoints, SeedTopology.Policy()));
        _headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-stage"] = "prod", ["x-version"] = "v3" };
        _floorTable = _endpoints
            .GroupBy(e => (e.Labels["stage"], e.Labels["version"]))
            .ToFrozenDictionary(g => g.Key, g => g.ToArray());
    }

    [Benchmark]
    public Endpoint? Resolve() => _resolver.Resolve(_headers).Endpoint;

    /// <summary>What a user writes by hand: filter the endpoint list by the header values on each request.</summary>
    [Benchmark]
    public Endpoint? HandWrittenLinq()
    {
        var stage = _headers.TryGetValue("x-stage", out var s) ? s : "prod";
        var version = _headers.TryGetValue("x-version", out var v) ? v : "v3";
        var matches = _endpoints.Where(e => e.IsHealthy && e.Labels["stage"] == stage && e.Labels["version"] == version).ToList();
        return matches.Count == 0 ? null : matches[Random.Shared.Next(matches.Count)];
    }

    /// <summary>The least work possible: two header lookups, one frozen-dictionary lookup, one array index.</summary>
    [Benchmark(Baseline = true)]
    public Endpoint? Floor()
    {
        _headers.TryGetValue("x-stage", out var stage);
        _headers.TryGetValue("x-version", out var version);
        var set = _floorTable[(stage!, version!)];
        return set[(uint)_floorNext++ % (uint)set.Length];
    }
}

internal static class SeedTopology
{
    public static Endpoint[] Endpoints() =>
    [
        Pod("192.168.0.5", "dev", "v1"),
        Pod("192.168.0.1", "dev", "v2"),
        Pod("192.168.0.252", "dev", "v3"),
        Pod("192.168.0.103", "prod", "v2"),
        Pod("192.168.0.104", "prod", "v3"),
        Pod("192.168.0.6", "prod", "v3"),
    ];

    public static RoutingPolicy Policy() => new(
        new DynamicSubsetPolicy([new SubsetSelector("stage", "version")]),
        [new HeaderMapping("x-version", "version", "v3"), new HeaderMapping("x-stage", "stage", "prod")]);

    private static Endpoint Pod(string ip, string stage, string version) =>
        Endpoint.Create(ip, 5678, new Dictionary<string, string> { ["app"] = "helloworld", ["stage"] = stage, ["version"] = version });
}
