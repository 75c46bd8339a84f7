using BenchmarkDotNet.Attributes;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// Building the index ({stage, version} and {%ip%}: two selectors) from N endpoints. Divide by N x 2 for the cost per
/// endpoint per selector. The baseline groups the same endpoints with LINQ into two dictionaries, with no lookup table.
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 8)]
public class BuildBenchmarks
{
    private Endpoint[] _endpoints = null!;
    private RoutingPolicy _policy = null!;

    [Params(1_000, 10_000, 100_000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _endpoints = Synthetic.Endpoints(Endpoints);
        _policy = Synthetic.Policy();
    }

    [Benchmark]
    public SubsetIndex Build() => SubsetIndex.Build(_endpoints, _policy);

    [Benchmark(Baseline = true)]
    public int NaiveGroupBy()
    {
        var bySubset = _endpoints.GroupBy(e => (e.Labels["stage"], e.Labels["version"])).ToDictionary(g => g.Key, g => g.ToArray());
        var byIp = _endpoints.GroupBy(e => e.AddressText).ToDictionary(g => g.Key, g => g.ToArray());
        return bySubset.Count + byIp.Count;
    }
}

/// <summary>
/// One endpoint change applied to an index of N endpoints ({stage, version} and {%ip%}): a relabel, a pod added and
/// another removed, a readiness flip, and the 25 relabels of a burst, each against a full rebuild (FreshIndex).
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 10)]
[MemoryDiagnoser]
public class UpdateBenchmarks
{
    private SubsetIndex _index = null!;
    private Endpoint[] _relabelled = null!;
    private EndpointChange[] _relabel = null!;
    private EndpointChange[] _addRemove = null!;
    private EndpointChange[] _flip = null!;
    private EndpointChange[] _burst = null!;

    [Params(1_000, 10_000, 100_000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var endpoints = Synthetic.Endpoints(Endpoints);
        _index = SubsetIndex.Build(endpoints, Synthetic.Policy());
        var moved = Synthetic.Create(Endpoints / 2, "canary", "v9");
        _relabel = [EndpointChange.Upsert(moved)];
        _relabelled = [.. endpoints];
        _relabelled[Endpoints / 2] = moved;
        _addRemove = [EndpointChange.Upsert(Synthetic.Create(Endpoints + 1, "prod", "v3")), EndpointChange.Remove(endpoints[Endpoints / 3].AddressKey)];
        _flip = [EndpointChange.SetHealth(endpoints[Endpoints / 4].AddressKey, isHealthy: false)];
        _burst = [.. Enumerable.Range(0, 25).Select(i => EndpointChange.Upsert(Synthetic.Create(i * (Endpoints / 25), "canary", "v" + (i % 5))))];
    }

    [Benchmark]
    public SubsetIndex ApplyOneRelabel() => _index.Apply(_relabel);

    [Benchmark]
    public SubsetIndex ApplyAddOneRemoveOne() => _index.Apply(_addRemove);

    [Benchmark]
    public SubsetIndex ApplyReadinessFlip() => _index.Apply(_flip);

    [Benchmark]
    public SubsetIndex ApplyBurstOf25Relabels() => _index.Apply(_burst);

    [Benchmark(Baseline = true)]
    public SubsetIndex FreshIndex() => _index.Rebuild(_relabelled);
}

/// <summary>
/// Resolve throughput on one and two threads: each method does the same 2,000,000 resolutions, so the ratio is the
/// inverse of the speed-up (0.5 is perfect scaling). LEAST_REQUEST, the default, with no requests in flight.
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 10)]
public class ConcurrencyBenchmarks
{
    private const int Total = 2_000_000;
    private SubsetResolver _resolver = null!;
    private Dictionary<string, string> _headers = null!;

    [GlobalSetup]
    public void Setup()
    {
        _resolver = new SubsetResolver(SubsetIndex.Build(Synthetic.Endpoints(10_000), Synthetic.Policy()));
        _headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-stage"] = "prod", ["x-version"] = "v3" };
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Total)]
    public void OneThread() => Run(Total);

    [Benchmark(OperationsPerInvoke = Total)]
    public void TwoThreads()
    {
        var other = new Thread(() => Run(Total / 2));
        other.Start();
        Run(Total / 2);
        other.Join();
    }

    private void Run(int count)
    {
        // Each thread its own header dictionary: the dictionary is not the thing under test.
        var headers = new Dictionary<string, string>(_headers, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < count; i++)
        {
            _resolver.Resolve(headers);
        }
    }
}
