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

/// <summary>What the request's match conditions are written with, in the routing benchmarks.</summary>
public enum RouteMatchKind
{
    /// <summary>uri prefix and header exact on each route.</summary>
    PrefixExact,

    /// <summary>uri prefix and, on every other route, a header regex (compiled once, NonBacktracking).</summary>
    PrefixRegex,
}

/// <summary>
/// A request routed through a VirtualService of 20 routes (uri prefix and header matches: it passes the prefix of 15
/// of the 19 before the last and fails on their header; it matches the last, which splits 90/10 between two destinations), against today's resolve of the same headers in the same pool: the routing
/// issue's budget is 2x the baseline and no allocation for prefix and exact matches.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 12)]
public class RouteBenchmarks
{
    private RoutedService _service = null!;
    private RoutedService _pool = null!;
    private Dictionary<string, string> _dictionary = null!;
    private HttpRequestMessage _request = null!;
    private HeaderDictionary _headerDictionary = null!;
    private string _method = null!;
    private string _path = null!;
    private string _authority = null!;

    [Params(6, 10_000)]
    public int Endpoints { get; set; }

    [Params(HeaderSourceKind.Dictionary, HeaderSourceKind.HttpRequestHeaders, HeaderSourceKind.IHeaderDictionary)]
    public HeaderSourceKind Source { get; set; }

    [Params(RouteMatchKind.PrefixExact, RouteMatchKind.PrefixRegex)]
    public RouteMatchKind Matches { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var endpoints = Synthetic.Endpoints(Endpoints);
        var policy = Endpoints == 6 ? SeedTopology.Policy() : Synthetic.Policy();
        _pool = new RoutedService("svc", new SubsetResolver(SubsetIndex.Build(endpoints, policy)));
        var other = new RoutedService("svc/v1", new SubsetResolver(SubsetIndex.Build(endpoints.Where(e => e.Labels["version"] == "v1"), policy)));
        var routes = new List<HttpRouteRule>();
        for (var i = 0; i < 19; i++)
        {
            var tenant = Matches == RouteMatchKind.PrefixRegex && i % 2 == 0 ? StringMatch.Regex($"tenant-{i}[a-z]*") : StringMatch.Exact($"tenant-{i}");
            routes.Add(new HttpRouteRule(
                [new RouteDestination("svc", "v1", other)],
                [new HttpRouteMatch { Uri = StringMatch.Prefix(i % 4 == 3 ? $"/service-{i}/" : "/shop/"), Headers = [new("x-tenant", tenant)] }]));
        }

        routes.Add(new HttpRouteRule(
            [new RouteDestination("svc", null, _pool, 90), new RouteDestination("svc", null, _pool, 10)],
            [new HttpRouteMatch { Uri = StringMatch.Prefix("/shop/"), Method = StringMatch.Exact("GET"), Headers = [new("x-tenant", StringMatch.Present)] }]));
        _service = new RoutedService("svc", _pool.Resolver) { Routes = [.. routes] };

        _dictionary = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-stage"] = "prod", ["x-version"] = "v3", ["x-tenant"] = "tenant-x" };
        _request = new HttpRequestMessage(HttpMethod.Get, "http://svc/shop/cart?id=7");
        foreach (var (name, value) in _dictionary)
        {
            _request.Headers.TryAddWithoutValidation(name, value);
        }

        _headerDictionary = new HeaderDictionary { ["x-stage"] = "prod", ["x-version"] = "v3", ["x-tenant"] = "tenant-x" };
        (_method, _path, _authority) = ("GET", _request.RequestUri!.PathAndQuery, _request.RequestUri.Authority);
        if (_service.Route(Facts(), new DictionaryHeaderSource(_dictionary)).Route != routes[^1])
        {
            throw new InvalidOperationException("the benchmark request must match the last route");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _request.Dispose();

    /// <summary>Today's resolve: the same headers, the same pool, no routes.</summary>
    [Benchmark(Baseline = true)]
    public Endpoint? Resolve() => Source switch
    {
        HeaderSourceKind.Dictionary => _pool.Resolver.Resolve(new DictionaryHeaderSource(_dictionary)).Endpoint,
        HeaderSourceKind.HttpRequestHeaders => _pool.Resolver.Resolve(new HttpRequestHeadersSource(_request.Headers)).Endpoint,
        _ => _pool.Resolver.Resolve(new HeaderDictionarySource(_headerDictionary)).Endpoint,
    };

    /// <summary>Through 20 routes: 19 fail (on their prefix), the last matches, a weighted pick, then the pool's resolve.</summary>
    [Benchmark]
    public Endpoint? Route() => Source switch
    {
        HeaderSourceKind.Dictionary => _service.Route(Facts(), new DictionaryHeaderSource(_dictionary)).Resolution.Endpoint,
        HeaderSourceKind.HttpRequestHeaders => _service.Route(Facts(), new HttpRequestHeadersSource(_request.Headers)).Resolution.Endpoint,
        _ => _service.Route(Facts(), new HeaderDictionarySource(_headerDictionary)).Resolution.Endpoint,
    };

    private RouteRequest Facts() => new(_method, _path, _authority, "http", 80);
}
