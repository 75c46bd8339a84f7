using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using DynamicSubset.Routing.Configuration;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// One DestinationRule edited among 100 services (N endpoints in all, as ServiceEntry endpoints, one file a service),
/// as the files source reloads it. <c>WatcherReload</c>: the edited file written, then
/// <c>MeshConfigurationWatcher.Reload()</c> (every file read, the changed one parsed, the set compiled, unchanged services
/// kept). <c>LoadEveryFile</c> (the baseline): the same write, then every file read and parsed, compiled and every index
/// built, as a reload did before. <c>CompileParsedDocuments</c>: the compile alone of documents already read.
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 8)]
[MemoryDiagnoser]
public class ReloadBenchmarks
{
    private const int Services = 100;
    private string _dir = null!;
    private string[] _paths = null!;
    private string[] _versions = null!;
    private MeshConfigurationWatcher _watcher = null!;
    private MeshDocumentSet _parsed = null!;
    private int _flip;

    [Params(1_000, 10_000, 100_000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("dsr-reload-bench-").FullName;
        var texts = Texts(edited: false);
        _versions = [texts[0].Content, Texts(edited: true)[0].Content];
        _paths = [.. texts.Select(t => Path.Combine(_dir, t.Name))];
        _parsed = new MeshDocumentSet();
        for (var i = 0; i < texts.Length; i++)
        {
            File.WriteAllText(_paths[i], texts[i].Content);
            _parsed.Set(_paths[i], texts[i].Content);
        }

        // Timer reloads out of the way: only the benchmark's own Reload() calls read the files.
        _watcher = new MeshConfigurationWatcher(_paths, options: new MeshConfigurationWatcherOptions { Debounce = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1) });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _watcher.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public bool WatcherReload()
    {
        File.WriteAllText(_paths[0], _versions[_flip ^= 1]);
        return _watcher.Reload();
    }

    [Benchmark(Baseline = true)]
    public SubsetIndex[] LoadEveryFile()
    {
        File.WriteAllText(_paths[0], _versions[_flip ^= 1]);
        return [.. MeshConfiguration.Load(_paths).Services.Select(static s => s.BuildIndex())];
    }

    [Benchmark]
    public MeshConfiguration CompileParsedDocuments() => _parsed.Compile();

    /// <summary>One file per service (a ServiceEntry with its endpoints and a DestinationRule); the edit changes service 0's fallback.</summary>
    private ConfigurationText[] Texts(bool edited)
    {
        var perService = Endpoints / Services;
        var texts = new ConfigurationText[Services];
        for (var s = 0; s < Services; s++)
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {"{"}name: svc{s}, namespace: default{"}"}
                spec:
                  host: svc{s}.example
                  trafficPolicy: {"{"}loadBalancer: {"{"}dynamicSubset: {"{"}fallbackPolicy: {(edited && s == 0 ? "ANY_ENDPOINT" : "NO_FALLBACK")}, subsetSelectors: [{"{"}keys: [stage, version]{"}"}, {"{"}keys: ['%ip%']{"}"}]{"}"}{"}"}{"}"}
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {"{"}name: svc{s}, namespace: default{"}"}
                spec:
                  hosts: [svc{s}.example]
                  resolution: STATIC
                  ports: [{"{"}number: 80, name: http{"}"}]
                  endpoints:

                """);
            for (var e = 0; e < perService; e++)
            {
                var i = (s * perService) + e;
                text.Append(CultureInfo.InvariantCulture,
                    $"    - {{address: 10.{i >> 16}.{(i >> 8) & 255}.{i & 255}, labels: {{stage: {Synthetic.Stages[i % 4]}, version: {Synthetic.Versions[(i / 4) % 5]}}}}}\n");
            }

            texts[s] = new ConfigurationText($"svc{s}.yaml", text.ToString());
        }

        return texts;
    }
}
