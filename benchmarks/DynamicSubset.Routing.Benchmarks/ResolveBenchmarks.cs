using System.Collections.Frozen;
using BenchmarkDotNet.Attributes;
using DynamicSubset.Routing.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>The header sources a resolution reads from.</summary>
public enum HeaderSourceKind
{
    Dictionary,
    HttpRequestHeaders,
    IHeaderDictionary,
}

/// <summary>
/// One resolution (x-stage: prod, x-version: v3) on the seed topology and on synthetic services, from each header
/// source, against what a user writes by hand and against the least work possible.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 12)]
public class ResolveBenchmarks
{
    private SubsetResolver _resolver = null!;
    private Dictionary<string, string> _dictionary = null!;
    private HttpRequestMessage _request = null!;
    private HeaderDictionary _headerDictionary = null!;
    private Endpoint[] _endpoints = null!;
    private FrozenDictionary<(string, string), Endpoint[]> _floorTable = null!;
    private int _next;

    [Params(6, 1_000, 10_000, 100_000)]
    public int Endpoints { get; set; }

    [Params(HeaderSourceKind.Dictionary, HeaderSourceKind.HttpRequestHeaders, HeaderSourceKind.IHeaderDictionary)]
    public HeaderSourceKind Source { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _endpoints = Synthetic.Endpoints(Endpoints);
        _resolver = new SubsetResolver(SubsetIndex.Build(_endpoints, Endpoints == 6 ? SeedTopology.Policy() : Synthetic.Policy()));
        _dictionary = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-stage"] = "prod", ["x-version"] = "v3" };
        _request = new HttpRequestMessage(HttpMethod.Get, "http://svc/");
        _request.Headers.TryAddWithoutValidation("x-stage", "prod");
        _request.Headers.TryAddWithoutValidation("x-version", "v3");
        _headerDictionary = new HeaderDictionary { ["x-stage"] = "prod", ["x-version"] = "v3" };
        _floorTable = _endpoints.GroupBy(e => (e.Labels["stage"], e.Labels["version"])).ToFrozenDictionary(g => g.Key, g => g.ToArray());
    }

    [GlobalCleanup]
    public void Cleanup() => _request.Dispose();

    [Benchmark]
    public Endpoint? Resolve() => Source switch
    {
        HeaderSourceKind.Dictionary => _resolver.Resolve(new DictionaryHeaderSource(_dictionary)).Endpoint,
        HeaderSourceKind.HttpRequestHeaders => _resolver.Resolve(new HttpRequestHeadersSource(_request.Headers)).Endpoint,
        _ => _resolver.Resolve(new HeaderDictionarySource(_headerDictionary)).Endpoint,
    };

    /// <summary>What a user writes by hand: filter the endpoint list by the header values on each request, pick one.</summary>
    [Benchmark]
    public Endpoint? HandWrittenLinq()
    {
        var (stage, version) = Lookup();
        var matches = _endpoints.Where(e => e.IsHealthy && e.Labels["stage"] == stage && e.Labels["version"] == version).ToList();
        return matches.Count == 0 ? null : matches[Random.Shared.Next(matches.Count)];
    }

    /// <summary>The least work: two header lookups in the same source, one frozen-dictionary lookup, one array index.</summary>
    [Benchmark(Baseline = true)]
    public Endpoint Floor()
    {
        var set = _floorTable[Lookup()];
        return set[(uint)_next++ % (uint)set.Length];
    }

    private (string Stage, string Version) Lookup()
    {
        switch (Source)
        {
            case HeaderSourceKind.Dictionary:
                _dictionary.TryGetValue("x-stage", out var s1);
                _dictionary.TryGetValue("x-version", out var v1);
                return (s1!, v1!);
            case HeaderSourceKind.HttpRequestHeaders:
                _request.Headers.NonValidated.TryGetValues("x-stage", out var s2);
                _request.Headers.NonValidated.TryGetValues("x-version", out var v2);
                return (s2.ToString(), v2.ToString());
            default:
                _headerDictionary.TryGetValue("x-stage", out StringValues s3);
                _headerDictionary.TryGetValue("x-version", out StringValues v3);
                return (s3.ToString(), v3.ToString());
        }
    }
}
