using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json.Nodes;
using DynamicSubset.Routing.Kubernetes;
using DynamicSubset.Routing.Kubernetes.Tests;
using k8s;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// The cluster source at scale, against the stand-in API server: a first sync of 10,000 pods behind one
/// DestinationRule, then 100 pod changes a second (relabels and readiness flips) for a minute. Reports the first-sync
/// time, the delay from an event's arrival to its publish (median and p99, from the catalog's own histogram), the CPU
/// time and the memory above the index.
/// </summary>
internal static class KubernetesScale
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pods = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60;
        const int changesPerSecond = 100;

        await using var api = await FakeApiServer.StartAsync("127.0.30.9");
        for (var i = 0; i < pods; i++)
        {
            api.Put("pods", Pod(i, version: i % 5, ready: true));
        }

        api.Put("services", JsonNode.Parse("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","namespace":"default"},"spec":{"selector":{"app":"svc"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}""")!.AsObject());
        api.Put("destinationrules", JsonNode.Parse("""{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"svc","namespace":"default"},"spec":{"host":"svc.default.svc.cluster.local","trafficPolicy":{"loadBalancer":{"dynamicSubset":{"subsetSelectors":[{"keys":["stage","version"]},{"keys":["%ip%"]}]}}}}}""")!.AsObject());
        api.Put("virtualservices", JsonNode.Parse("""{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"svc","namespace":"default"},"spec":{"hosts":["svc.default.svc.cluster.local"],"http":[{"headerToDynamicSubsetKey":[{"header":"x-version","key":"version"},{"header":"x-stage","key":"stage"},{"header":"x-ip","key":"%ip%"}],"route":[{"destination":{"host":"svc.default.svc.cluster.local"}}]}]}}""")!.AsObject());

        var delays = new List<double>();
        var applies = new List<(double Seconds, string Mode)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name is "dynamic_subset.kubernetes.publish.delay" or "dynamic_subset.kubernetes.apply.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            lock (delays)
            {
                if (instrument.Name == "dynamic_subset.kubernetes.publish.delay")
                {
                    delays.Add(value);
                }
                else
                {
                    applies.Add((value, tags.Length > 0 ? tags[0].Value as string ?? "" : ""));
                }
            }
        });
        listener.Start();

        // A warm-up catalog over a namespace with one pod, disposed before the baseline: what any catalog pays once
        // (KubernetesClient's serializer metadata for the Pod graph, connections) is not a cost per pod.
        var warmPod = Pod(pods, version: 0, ready: true);
        warmPod["metadata"]!["namespace"] = "warm-up";
        api.Put("pods", warmPod);
        var warmSync = Stopwatch.StartNew();
        using (var warm = new KubernetesRoutingCatalog(new KubernetesRoutingOptions
        {
            ClientConfiguration = new KubernetesClientConfiguration { Host = api.Address.ToString() },
            Namespaces = { "warm-up" },
        }))
        {
            await warm.WaitForSyncAsync();
            warmSync.Stop();
        }

        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var sync = Stopwatch.StartNew();

        // The peak of the first sync: managed heap size sampled every 2 ms while it runs (the stand-in's copies of the
        // pods, kept before the baseline, are in every sample; what it builds per page is in the peak).
        long peak = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Delay(2);
            }
        });
        using var catalog = new KubernetesRoutingCatalog(new KubernetesRoutingOptions
        {
            ClientConfiguration = new KubernetesClientConfiguration { Host = api.Address.ToString() },
            ListPageSize = int.TryParse(Environment.GetEnvironmentVariable("DSR_LIST_PAGE_SIZE"), CultureInfo.InvariantCulture, out var pageSize) ? pageSize : 500,
        });
        await catalog.WaitForSyncAsync();
        sync.Stop();
        await sampling.CancelAsync();
        await sampler;
        var index = catalog.Current.Services[0].Resolver.Current;
        lock (delays)
        {
            delays.Clear(); // the first sync is reported on its own
            applies.Clear();
        }

        GC.Collect();
        var afterSync = GC.GetTotalMemory(forceFullCollection: true);
        if (int.TryParse(Environment.GetEnvironmentVariable("DSR_PAUSE_AFTER_SYNC"), CultureInfo.InvariantCulture, out var pause))
        {
            Console.WriteLine($"synced; pausing {pause} s (pid {Environment.ProcessId}) for a heap dump");
            await Task.Delay(TimeSpan.FromSeconds(pause));
        }

        var cpuAtChurn = process.TotalProcessorTime;
        var churn = Stopwatch.StartNew();
        var changes = 0;
        var random = new Random(7);
        while (churn.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var due = TimeSpan.FromSeconds((double)changes / changesPerSecond);
            if (churn.Elapsed < due)
            {
                await Task.Delay(due - churn.Elapsed);
            }

            var i = random.Next(pods);
            api.Put("pods", Pod(i, version: random.Next(5), ready: random.Next(10) != 0));
            changes++;
        }

        await Task.Delay(1000); // the last burst
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var churnCpu = process.TotalProcessorTime - cpuAtChurn;
        GC.Collect();
        var end = GC.GetTotalMemory(forceFullCollection: true);
        double[] sorted;
        lock (delays)
        {
            sorted = [.. delays.Order()];
        }

        var indexBytes = EstimateIndexBytes(pods);
        Console.WriteLine($"pods: {pods}; changes: {changes} in {churn.Elapsed.TotalSeconds:0.0} s ({changes / churn.Elapsed.TotalSeconds:0} a second)");
        Console.WriteLine($"first sync: {sync.Elapsed.TotalMilliseconds:0} ms (list of every kind, compile, build; after the warm-up catalog's own first sync of one pod, cold: {warmSync.Elapsed.TotalMilliseconds:0} ms)");
        Console.WriteLine($"event to publish: median {Percentile(sorted, 0.5) * 1000:0.0} ms, p99 {Percentile(sorted, 0.99) * 1000:0.0} ms, max {sorted.LastOrDefault() * 1000:0.0} ms ({sorted.Length} events; coalescing window 50 ms, at most 250 ms)");
        Console.WriteLine($"CPU: {cpu.TotalSeconds:0.0} s over the sync and {seconds} s of churn (stand-in API server included, same process)");
        (double Seconds, string Mode)[] applied;
        lock (delays)
        {
            applied = [.. applies];
        }

        Console.WriteLine($"publishing thread per pod change: {applied.Sum(static a => a.Seconds) * 1e6 / Math.Max(1, changes):0} us ({applied.Length} batches: {applied.Count(static a => a.Mode == "incremental")} incremental, {applied.Count(static a => a.Mode == "compiled")} compiled; the batch p99 {Percentile([.. applied.Select(static a => a.Seconds).Order()], 0.99) * 1000:0.00} ms)");
        Console.WriteLine($"CPU per pod change during the churn: {churnCpu.TotalMilliseconds * 1000 / Math.Max(1, changes):0} us (stand-in included: it serializes each event)");
        Console.WriteLine($"managed memory: {baseline / 1048576.0:0.0} MB before, {afterSync / 1048576.0:0.0} MB after the sync, {end / 1048576.0:0.0} MB at the end");
        Console.WriteLine($"first sync peak: {peak / 1048576.0:0.0} MB managed (sampled), {(peak - baseline) / 1048576.0:0.0} MB above the baseline against {(afterSync - baseline) / 1048576.0:0.0} MB held after it: {(peak - baseline) / (double)Math.Max(1, afterSync - baseline):0.00}x the steady state");
        Console.WriteLine($"per pod above the index: {(afterSync - baseline - indexBytes) / (double)pods:0} B (after a warm-up catalog over one pod in another namespace) (index estimated at {indexBytes / (double)pods:0} B a pod: {index.Endpoints.Length} endpoints, {index.Subsets.Length} subsets)");
        return 0;
    }

    /// <summary>The index alone, measured the same way: built from the same endpoints in this process.</summary>
    private static long EstimateIndexBytes(int pods)
    {
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var policy = new RoutingPolicy(
            new DynamicSubsetPolicy([new SubsetSelector("stage", "version"), new SubsetSelector(BuiltInKeys.IP)]),
            [new HeaderMapping("x-version", "version"), new HeaderMapping("x-stage", "stage"), new HeaderMapping("x-ip", BuiltInKeys.IP)]);
        var index = SubsetIndex.Build(Enumerable.Range(0, pods).Select(i => Endpoint.Create(Ip(i), 8080,
            new Dictionary<string, string> { ["app"] = "svc", ["stage"] = "s" + (i % 3).ToString(CultureInfo.InvariantCulture), ["version"] = "v" + (i % 5).ToString(CultureInfo.InvariantCulture) }, name: "pod-" + i.ToString(CultureInfo.InvariantCulture))), policy);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(index);
        return after - before;
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static string Ip(int i) => $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";

    private static JsonObject Pod(int i, int version, bool ready) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject
        {
            ["name"] = "pod-" + i.ToString(CultureInfo.InvariantCulture),
            ["namespace"] = "default",
            ["labels"] = new JsonObject { ["app"] = "svc", ["stage"] = "s" + (i % 3).ToString(CultureInfo.InvariantCulture), ["version"] = "v" + version.ToString(CultureInfo.InvariantCulture) },
        },
        // Built node by node, not parsed: a parsed JsonObject materializes lazily, on the stand-in's first list, and
        // that growth (about 1 KB a pod) would be counted as the catalog's.
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 8080 }) }) },
        ["status"] = new JsonObject
        {
            ["podIP"] = Ip(i),
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
        },
    };
}
