using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using DynamicSubset.Routing.Kubernetes;
using k8s;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// The cluster source at scale, against the stand-in API server in a process of its own (<see cref="StandInCluster"/>):
/// a first sync of 10,000 pods behind one DestinationRule, then 100 pod changes a second (relabels and readiness flips)
/// for a minute. Reports the first-sync time and peak memory, the delay from an event's arrival to its publish (median
/// and p99, from the catalog's own histogram), the publishing thread's time and this process's CPU per pod change, and
/// the memory above the index.
/// </summary>
internal static class KubernetesScale
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pods = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60;
        var kubeletShape = args.Length > 2 && args[2] == "kubelet"; // pods as an API server serves them (6.5 KB of JSON each), not only what routing reads
        const int changesPerSecond = 100;

        // The stand-in API server runs in a process of its own: its objects, its serializing and its garbage are not the
        // catalog's, so this process's CPU and memory are the catalog's alone (KubernetesClient's watch reading included).
        var api = StartStandIn(pods, changesPerSecond, kubeletShape);
        var address = await api.StandardOutput.ReadLineAsync() is { } listening && listening.StartsWith("listening ", StringComparison.Ordinal)
            ? listening["listening ".Length..]
            : throw new InvalidOperationException($"the stand-in API server did not start: {await api.StandardError.ReadToEndAsync()}");
        var delays = new List<double>();
        var applies = new List<(double Seconds, string Mode, long EndedAt, double Oldest)>();
        var oldest = 0.0; // the longest delay among the changes the next apply publishes (recorded before it)
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
                    oldest = Math.Max(oldest, value);
                }
                else
                {
                    applies.Add((value, tags.Length > 0 ? tags[0].Value as string ?? "" : "", Stopwatch.GetTimestamp(), oldest));
                    oldest = 0;
                }
            }
        });
        listener.Start();

        // A warm-up catalog over a namespace with one pod, disposed before the baseline: what any catalog pays once
        // (KubernetesClient's serializer metadata for the Pod graph, connections) is not a cost per pod.
        var warmSync = Stopwatch.StartNew();
        using (var warm = new KubernetesRoutingCatalog(new KubernetesRoutingOptions
        {
            ClientConfiguration = new KubernetesClientConfiguration { Host = address },
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
        var catalog = new KubernetesRoutingCatalog(new KubernetesRoutingOptions
        {
            ClientConfiguration = new KubernetesClientConfiguration { Host = address },
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

        // The collections' pauses are recorded from here on, not during the sync: the listener slowed a first sync of
        // 100,000 pods by several seconds. The settling spell below takes its start-up.
        using var pauses = new GcPauses();

        // A settling spell after the sync: the runtime recompiles the sync's hot methods in the background (tiered
        // compilation), which would otherwise count against the first seconds of the churn.
        process.Refresh();
        var cpuAtSettle = process.TotalProcessorTime;
        await Task.Delay(TimeSpan.FromSeconds(5));
        process.Refresh();
        var settleCpu = process.TotalProcessorTime - cpuAtSettle;

        // Then the same process idle, watching 10,000 pods that do not change: what it costs with no event at all, to
        // tell apart from what each change costs.
        var idleRate = await IdleRateAsync(process);

        var cpuAtChurn = process.TotalProcessorTime;
        var churnSpan = Stopwatch.StartNew(); // the span the churn's CPU is read over: the churn and the last burst
        int[] collectionsAtChurn = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var allocatedAtChurn = GC.GetTotalAllocatedBytes();
        var pausedAtChurn = GC.GetTotalPauseDuration();
        var churnStartedAt = Stopwatch.GetTimestamp();
        var churn = Stopwatch.StartNew();
        var changes = await ChurnAsync(api, seconds);
        churn.Stop();
        await Task.Delay(1000); // the last burst
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var churnCpu = process.TotalProcessorTime - cpuAtChurn;
        churnSpan.Stop();
        var churnEndedAt = Stopwatch.GetTimestamp();
        int[] collections = [GC.CollectionCount(0) - collectionsAtChurn[0], GC.CollectionCount(1) - collectionsAtChurn[1], GC.CollectionCount(2) - collectionsAtChurn[2]];
        var allocated = GC.GetTotalAllocatedBytes() - allocatedAtChurn;
        var paused = GC.GetTotalPauseDuration() - pausedAtChurn;

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
        Console.WriteLine($"CPU: {cpu.TotalSeconds:0.0} s over the sync and {seconds} s of churn (this process: the catalog and its client; the stand-in runs apart)");
        (double Seconds, string Mode, long EndedAt, double Oldest)[] applied;
        lock (delays)
        {
            applied = [.. applies];
        }

        Console.WriteLine($"publishing thread per pod change: {applied.Sum(static a => a.Seconds) * 1e6 / Math.Max(1, changes):0} us ({applied.Length} batches: {applied.Count(static a => a.Mode == "incremental")} incremental, {applied.Count(static a => a.Mode == "compiled")} compiled; the batch p99 {Percentile([.. applied.Select(static a => a.Seconds).Order()], 0.99) * 1000:0.00} ms)");

        // How much of the batches' time was a collection's pause (any thread's allocation can start one; every thread
        // waits it out), and the pauses of the churn: the runtime raises its events late, so they are read at the end.
        await Task.Delay(1000);
        var inBatches = applied.Select(a => pauses.PausedWithin(a.EndedAt - (long)(a.Seconds * Stopwatch.Frequency), a.EndedAt)).ToArray();
        var within = pauses.PausesWithin(churnStartedAt, churnEndedAt);
        double[] churnPauses = [.. within.Select(static p => p.Milliseconds).Order()];
        var byGeneration = string.Join(", ", within.GroupBy(static p => p.Generation).OrderBy(static g => g.Key).Select(static g => $"gen{g.Key} {g.Count()} x {g.Average(static p => p.Milliseconds):0.0} ms (longest {g.Max(static p => p.Milliseconds):0.0}{Promoting(g)})"));
        Console.WriteLine($"collections' pauses within batches: {inBatches.Sum():0} ms of {applied.Sum(static a => a.Seconds) * 1000:0} ms, in {inBatches.Count(static p => p > 0)} of {applied.Length} batches; the batch p99 less its pauses {Percentile([.. applied.Select((a, i) => a.Seconds * 1000 - inBatches[i]).Order()], 0.99):0.00} ms; the churn's pauses: {churnPauses.Length}, median {Percentile(churnPauses, 0.5):0.0} ms, longest {churnPauses.LastOrDefault():0.0} ms; {byGeneration}");

        // A batch's oldest change waited for its burst to end, then for the apply: the wait alone is the delay less the apply.
        double[] waits = [.. applied.Select(static a => (a.Oldest - a.Seconds) * 1000).Order()];
        double[] durations = [.. applied.Select(static a => a.Seconds * 1000).Order()];
        Console.WriteLine($"each batch's oldest change: waited for the burst median {Percentile(waits, 0.5):0.0} ms, p90 {Percentile(waits, 0.9):0.0} ms, longest {waits.LastOrDefault():0.0} ms; then its apply median {Percentile(durations, 0.5):0.0} ms, p90 {Percentile(durations, 0.9):0.0} ms, longest {durations.LastOrDefault():0.0} ms");

        // A batch holds about a hundredth of the changes, so the p99 is the latest batch or two: which ones, and why.
        // Late past MaxDelay (250 ms) before its apply began: how much of that a collection's pause held.
        var latest = applied.Select((a, i) =>
        {
            var start = a.EndedAt - (long)(a.Seconds * Stopwatch.Frequency);
            var late = Math.Max(0, a.Oldest - a.Seconds - 0.250);
            return (Index: i, a.Oldest, a.Seconds, Paused: inBatches[i], PausedLate: pauses.PausedWithin(start - (long)(late * Stopwatch.Frequency), start));
        }).OrderByDescending(static a => a.Oldest).Take(4);
        Console.WriteLine("the latest batches (number of " + applied.Length + ": oldest change's delay = wait + apply; paused while late / in the apply): " + string.Join("; ", latest.Select(static a =>
            string.Create(CultureInfo.InvariantCulture, $"#{a.Index + 1}: {a.Oldest * 1000:0.0} = {(a.Oldest - a.Seconds) * 1000:0.0} + {a.Seconds * 1000:0.0} ({a.PausedLate:0.0} / {a.Paused:0.0})"))));

        // The batches come at a steady rate, so the later half holds about half the changes. Early batches run code the JIT
        // has not optimized yet (a method is recompiled after some 30 calls, and there are four batches a second).
        var later = applied[(applied.Length / 2)..];
        Console.WriteLine($"publishing thread per pod change, the later half of the batches: {later.Sum(static a => a.Seconds) * 1e6 / Math.Max(1, changes * later.Length / (double)Math.Max(1, applied.Length)):0} us");
        Console.WriteLine($"CPU per pod change during the churn: {churnCpu.TotalMilliseconds * 1000 / Math.Max(1, changes):0} us (this process: the watch read, the apply, their garbage)");
        var perChange = (churnCpu - churnSpan.Elapsed * idleRate).TotalMilliseconds * 1000 / Math.Max(1, changes);
        Console.WriteLine($"idle before the churn: {idleRate * 1000:0.0} ms of CPU a second; CPU per pod change above idle: {perChange:0} us (settling after the sync, before the churn: {settleCpu.TotalMilliseconds / 5:0} ms of CPU a second)");
        Console.WriteLine($"during the churn: {allocated / (double)Math.Max(1, changes) / 1024:0.0} KB allocated per pod change; collections gen0 {collections[0]}, gen1 {collections[1]}, gen2 {collections[2]}; paused {paused.TotalMilliseconds:0} ms in all");
        Console.WriteLine($"managed memory: {baseline / 1048576.0:0.0} MB before, {afterSync / 1048576.0:0.0} MB after the sync, {end / 1048576.0:0.0} MB at the end");
        Console.WriteLine($"first sync peak: {peak / 1048576.0:0.0} MB managed (sampled), {(peak - baseline) / 1048576.0:0.0} MB above the baseline against {(afterSync - baseline) / 1048576.0:0.0} MB held after it: {(peak - baseline) / (double)Math.Max(1, afterSync - baseline):0.00}x the steady state");
        Console.WriteLine($"per pod above the index: {(afterSync - baseline - indexBytes) / (double)pods:0} B (after a warm-up catalog over one pod in another namespace) (index estimated at {indexBytes / (double)pods:0} B a pod: {index.Endpoints.Length} endpoints, {index.Subsets.Length} subsets)");

        // The floor, in the same process and from the same stand-in: the pod watch read with nothing done with its events.
        var resourceVersion = catalog.ResourceVersions["Pod"];
        catalog.Dispose();
        var (floorChanges, floorCpu, floorIdle) = await BareWatchAsync(api, address, resourceVersion!, seconds, process);
        Console.WriteLine($"the same watch read bare (HttpClient, lines counted, nothing parsed; the catalog disposed), same process: {floorCpu * 1e6:0} us of CPU per pod change above idle ({floorChanges} changes; idle {floorIdle * 1000:0.0} ms of CPU a second); the catalog's {perChange:0} us is {perChange / Math.Max(1e-9, floorCpu * 1e6):0.0}x that");
        await api.StandardInput.WriteLineAsync("stop");
        await api.StandardInput.FlushAsync();
        await api.WaitForExitAsync();
        return 0;
    }

    /// <summary>
    /// Reads the pod watch from <paramref name="resourceVersion"/> with a plain <see cref="HttpClient"/>, counting its
    /// lines and reading nothing in them, over <paramref name="seconds"/> of the same churn: what any reader of this
    /// watch in .NET pays per event (the socket, the thread pool's wakes, the HTTP response's framing), which the catalog
    /// pays too. Returns the changes, the CPU seconds per change above the idle rate, and that idle rate.
    /// </summary>
    private static async Task<(int Changes, double CpuPerChange, double IdleRate)> BareWatchAsync(Process api, string address, string resourceVersion, int seconds, Process process)
    {
        using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var response = await client.GetAsync(new Uri($"{address}/api/v1/pods?allowWatchBookmarks=true&resourceVersion={resourceVersion}&watch=true"), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var reader = System.IO.Pipelines.PipeReader.Create(await response.Content.ReadAsStreamAsync());
        long lines = 0; // written by the reading task alone, read after it ends
        using var stop = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var read = await reader.ReadAsync(stop.Token);
                    foreach (var segment in read.Buffer)
                    {
                        lines += System.MemoryExtensions.Count(segment.Span, (byte)'\n');
                    }

                    reader.AdvanceTo(read.Buffer.End);
                    if (read.IsCompleted)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(5)); // settle: the reader's code is compiled, the connection is idle
        var idleRate = await IdleRateAsync(process);

        process.Refresh();
        var cpuAtChurn = process.TotalProcessorTime;
        var span = Stopwatch.StartNew();
        var changes = await ChurnAsync(api, seconds);
        await Task.Delay(1000); // the last events in flight
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuAtChurn - (span.Elapsed * idleRate);
        await stop.CancelAsync();
        await reading;
        await reader.CompleteAsync();
        if (lines < changes)
        {
            throw new InvalidOperationException($"the bare watch read {lines} lines for {changes} changes");
        }

        return (changes, cpu.TotalSeconds / Math.Max(1, changes), idleRate);
    }

    /// <summary>The index alone, measured the same way: built from the same endpoints in this process.</summary>
    private static long EstimateIndexBytes(int pods)
    {
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var policy = new RoutingPolicy(
            new DynamicSubsetPolicy([new SubsetSelector("stage", "version"), new SubsetSelector(BuiltInKeys.IP)]),
            [new HeaderMapping("x-version", "version"), new HeaderMapping("x-stage", "stage"), new HeaderMapping("x-ip", BuiltInKeys.IP)]);
        var index = SubsetIndex.Build(Enumerable.Range(0, pods).Select(i => Endpoint.Create(StandInCluster.SyntheticIp(i), 8080,
            new Dictionary<string, string> { ["app"] = "svc", ["stage"] = "s" + (i % 3).ToString(CultureInfo.InvariantCulture), ["version"] = "v" + (i % 5).ToString(CultureInfo.InvariantCulture) }, name: "pod-" + i.ToString(CultureInfo.InvariantCulture))), policy);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(index);
        return after - before;
    }

    /// <summary>This process's CPU seconds per second over 5 s with no change coming: what it costs with no event at all.</summary>
    private static async Task<double> IdleRateAsync(Process process)
    {
        process.Refresh();
        var cpuAtIdle = process.TotalProcessorTime;
        var idle = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(5));
        process.Refresh();
        return (process.TotalProcessorTime - cpuAtIdle) / idle.Elapsed;
    }

    /// <summary>Has the stand-in change pods for <paramref name="seconds"/>, then pause; returns the changes it made.</summary>
    private static async Task<int> ChurnAsync(Process api, int seconds)
    {
        await api.StandardInput.WriteLineAsync("churn");
        await api.StandardInput.FlushAsync();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await api.StandardInput.WriteLineAsync("pause");
        await api.StandardInput.FlushAsync();
        var counted = await api.StandardOutput.ReadLineAsync();
        return counted is not null && counted.StartsWith("changes: ", StringComparison.Ordinal)
            ? int.Parse(counted["changes: ".Length..], CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"the stand-in API server did not count its changes: '{counted}'");
    }

    /// <summary>What a generation's collections promoted on average, where the runtime said (a pause that was no collection, or a background one, does not).</summary>
    private static string Promoting(IEnumerable<(double Milliseconds, int Generation, long Promoted)> pauses) =>
        pauses.Where(static p => p.Promoted >= 0).Select(static p => (double)p.Promoted).DefaultIfEmpty(-1).Average() is var average and >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"; promoting {average / 1048576:0.0} MB on average")
            : "";

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static Process StartStandIn(int pods, int changesPerSecond, bool kubeletShape)
    {
        // The same build of this program: "dotnet this.dll" when run by the dotnet host, else its own executable.
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(KubernetesScale).Assembly.Location);
        }

        foreach (var argument in (string[])["stand-in-cluster", "--synthetic", pods.ToString(CultureInfo.InvariantCulture), "--listen", "127.0.30.9", "--rate", changesPerSecond.ToString(CultureInfo.InvariantCulture), "--kubelet-shape", kubeletShape ? "true" : "false"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                process.Kill(); // this run failed or was stopped: the stand-in goes with it
            }
            catch (InvalidOperationException)
            {
                // it had exited, as after a whole run
            }
        };
        return process;
    }
}
