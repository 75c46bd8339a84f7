using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>The file-watching source, on real files with real file system events.</summary>
public sealed class WatcherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-watch-").FullName;
    private readonly FakeLogger<MeshConfigurationWatcher> _logger = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string RulesFile => Path.Combine(_dir, "rules.yaml");

    private string EndpointsFile => Path.Combine(_dir, "endpoints.yaml");

    private static string Endpoints(string stageOfFirst) => $$$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: helloworld-vms}
        spec:
          hosts: [helloworld.default.svc.cluster.local]
          resolution: STATIC
          ports: [{number: 8000, name: http, targetPort: 5678}]
          endpoints:
            - {address: 127.0.0.11, labels: {stage: {{{stageOfFirst}}}, version: v1}}
            - {address: 127.0.0.12, labels: {stage: prod, version: v3}}
        """;

    private MeshConfigurationWatcher Start(TimeProvider? time = null)
    {
        File.WriteAllText(RulesFile, Fixtures.Dr + "\n---\n" + Fixtures.Vs);
        File.WriteAllText(EndpointsFile, Endpoints("dev"));
        return new MeshConfigurationWatcher([RulesFile, EndpointsFile], _logger, new() { TimeProvider = time ?? TimeProvider.System });
    }

    private static Dictionary<string, string> DevV1 => Fixtures.Headers(("x-stage", "dev"), ("x-version", "v1"));

    [Fact]
    public void Start_LoadsAndFindsServicesByAnyName()
    {
        using var watcher = Start();

        Assert.Equal(1, watcher.Version);
        Assert.True(watcher.TryGetService("helloworld", out var service, out var resolver));
        Assert.True(watcher.TryGetService("helloworld.default.svc.cluster.local", out _, out var same));
        Assert.Same(resolver, same);
        Assert.False(watcher.TryGetService("other", out _, out _));
        Assert.Equal("127.0.0.11", resolver.Resolve(DevV1).Endpoint?.AddressText);
        Assert.Equal(8000, service.Port);
    }

    [Fact]
    public void Start_WithInvalidFiles_Throws()
    {
        File.WriteAllText(RulesFile, Fixtures.Dr.Replace("[stage, version]", "[stage, '%x%']", StringComparison.Ordinal));

        var error = Assert.Throws<MeshConfigurationException>(() => new MeshConfigurationWatcher([RulesFile]));

        Assert.Contains($"{RulesFile}:11:27:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_ReloadsAndPublishesToTheSameResolver()
    {
        using var watcher = Start();
        watcher.TryGetService("helloworld", out _, out var resolver);
        var reloaded = new TaskCompletionSource<MeshConfigurationReloadedEventArgs>();
        watcher.Reloaded += (_, e) => reloaded.TrySetResult(e);

        await File.WriteAllTextAsync(EndpointsFile, Endpoints("qa"), TestContext.Current.CancellationToken);
        var result = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded);
        Assert.Equal(2, watcher.Version);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, resolver!.Resolve(DevV1).Outcome);
        Assert.Equal("127.0.0.11", resolver.Resolve(Fixtures.Headers(("x-stage", "qa"), ("x-version", "v1"))).Endpoint?.AddressText);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 11);
    }

    /// <summary>Reloads only when told: the test's own Reload() calls are the only reads.</summary>
    private static MeshConfigurationWatcherOptions ManualOnly => new() { Debounce = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1) };

    private static Dictionary<string, string> StageV1(string stage) => Fixtures.Headers(("x-stage", stage), ("x-version", "v1"));

    [Fact]
    public void AReload_ReadsOnlyTheFilesWhoseStampChanged()
    {
        File.WriteAllText(RulesFile, Fixtures.Dr + "\n---\n" + Fixtures.Vs);
        File.WriteAllText(EndpointsFile, Endpoints("dev"));
        var anHourAgo = DateTime.UtcNow.AddHours(-1);
        File.SetLastWriteTimeUtc(RulesFile, anHourAgo);
        File.SetLastWriteTimeUtc(EndpointsFile, anHourAgo);
        using var watcher = new MeshConfigurationWatcher([RulesFile, EndpointsFile], _logger, ManualOnly);
        watcher.TryGetService("helloworld", out _, out var resolver);

        Assert.True(watcher.Reload());
        Assert.Equal(0, watcher.FilesReadLastReload); // both as they were read, and written well before

        // Stamped a minute ahead (a file system clock ahead of ours, or a write this instant): within the racy window of
        // every read below however slow this machine is, so its stamp never vouches for its text.
        File.WriteAllText(EndpointsFile, Endpoints("qa"));
        File.SetLastWriteTimeUtc(EndpointsFile, DateTime.UtcNow.AddMinutes(1));
        Assert.True(watcher.Reload());
        Assert.Equal(1, watcher.FilesReadLastReload);
        Assert.Equal("127.0.0.11", resolver!.Resolve(StageV1("qa")).Endpoint?.AddressText);

        // Within the racy window of that read: read again.
        Assert.True(watcher.Reload());
        Assert.Equal(1, watcher.FilesReadLastReload);
    }

    [Fact]
    public void ASameLengthRewrite_StampedAsTheFileWasWhenRead_IsStillSeen()
    {
        // The first read is within the racy window of the file's write time (a minute ahead here, so that no pause of
        // this machine can move the read out of it).
        var stamped = DateTime.UtcNow.AddMinutes(1);
        File.WriteAllText(RulesFile, Fixtures.Dr + "\n---\n" + Fixtures.Vs);
        File.WriteAllText(EndpointsFile, Endpoints("dev"));
        File.SetLastWriteTimeUtc(EndpointsFile, stamped);
        using var watcher = new MeshConfigurationWatcher([RulesFile, EndpointsFile], _logger, ManualOnly);
        watcher.TryGetService("helloworld", out _, out var resolver);

        // "dev" to "uat": the same length; the write stamped as the first was, as a coarse file system clock can stamp two
        // writes in one tick. So this one is read.
        File.WriteAllText(EndpointsFile, Endpoints("uat"));
        File.SetLastWriteTimeUtc(EndpointsFile, stamped);
        Assert.True(watcher.Reload());

        Assert.Equal("127.0.0.11", resolver!.Resolve(StageV1("uat")).Endpoint?.AddressText);
    }

    [Fact]
    public async Task AConfigMapUpdate_ASymlinkSwap_IsSeen_EvenWithTheSameLengthAndWriteTime()
    {
        // A ConfigMap volume as the kubelet lays it out: endpoints.yaml -> ..data/endpoints.yaml, ..data -> ..v1. An update
        // writes ..v2 and swaps ..data in one rename. The link at endpoints.yaml never changes; the file it leads to does.
        var anHourAgo = DateTime.UtcNow.AddHours(-1);
        void Version(string name, string stage)
        {
            Directory.CreateDirectory(Path.Combine(_dir, name));
            var file = Path.Combine(_dir, name, "endpoints.yaml");
            File.WriteAllText(file, Endpoints(stage));
            File.SetLastWriteTimeUtc(file, anHourAgo);
        }

        Version("..v1", "dev");
        File.CreateSymbolicLink(Path.Combine(_dir, "..data"), "..v1");
        File.CreateSymbolicLink(EndpointsFile, Path.Combine("..data", "endpoints.yaml"));
        await RunAsync("touch", "-h", "-d", "1 hour ago", EndpointsFile, Path.Combine(_dir, "..data")); // the links as old as a pod's mount: their own stamps never change
        File.WriteAllText(RulesFile, Fixtures.Dr + "\n---\n" + Fixtures.Vs);
        File.SetLastWriteTimeUtc(RulesFile, anHourAgo);
        using var watcher = new MeshConfigurationWatcher([RulesFile, EndpointsFile], _logger);
        watcher.TryGetService("helloworld", out _, out var resolver);
        var reloaded = new TaskCompletionSource();
        watcher.Reloaded += (_, e) => { if (e.Succeeded && resolver!.Resolve(StageV1("uat")).HasEndpoint) { reloaded.TrySetResult(); } };

        Version("..v2", "uat"); // the same length and write time as ..v1's
        File.CreateSymbolicLink(Path.Combine(_dir, "..data_tmp"), "..v2");
        await RunAsync("mv", "-T", Path.Combine(_dir, "..data_tmp"), Path.Combine(_dir, "..data")); // rename(2), as the kubelet swaps it

        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, resolver!.Resolve(StageV1("dev")).Outcome);
    }

    [Fact]
    public void ASymbolicLinkLoop_IsAnErrorNamingTheFile_NotAHang()
    {
        var a = Path.Combine(_dir, "a.yaml");
        var b = Path.Combine(_dir, "b.yaml");
        File.CreateSymbolicLink(a, b);
        File.CreateSymbolicLink(b, a);

        var error = Assert.Throws<MeshConfigurationException>(() => new MeshConfigurationWatcher([a], _logger, ManualOnly));

        Assert.Contains($"{a}:1:1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot read the file", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs a tool that does what .NET's file API does not (set a link's own time; rename a link to a directory over another).</summary>
    private static async Task RunAsync(string tool, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(tool, arguments);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task AReloadThatChangesOneService_KeepsTheOthersSnapshots_TheirGenerationAndLiveState()
    {
        var other = Path.Combine(_dir, "other.yaml");
        File.WriteAllText(other, """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: other}
            spec:
              hosts: [other.example]
              resolution: STATIC
              ports: [{number: 80, name: http}]
              endpoints: [{address: 127.0.0.21, labels: {version: v1}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: other}
            spec:
              host: other.example
              trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}}
            """);
        File.WriteAllText(RulesFile, Fixtures.Dr + "\n---\n" + Fixtures.Vs);
        File.WriteAllText(EndpointsFile, Endpoints("dev"));
        using var watcher = new MeshConfigurationWatcher([RulesFile, EndpointsFile, other], _logger);
        watcher.TryGetService("other.example", out _, out var kept);
        watcher.TryGetService("helloworld", out _, out var changed);
        var (keptIndex, changedIndex) = (kept!.Current, changed!.Current);
        using (kept.Resolve(new Dictionary<string, string>()).TrackRequest())
        {
            // A request in flight to the kept service while the other one's file changes.
            var reloaded = new TaskCompletionSource();
            watcher.Reloaded += (_, e) => { if (e.Succeeded) { reloaded.TrySetResult(); } };
            await File.WriteAllTextAsync(EndpointsFile, Endpoints("qa"), TestContext.Current.CancellationToken);
            await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

            Assert.Same(keptIndex, kept.Current); // not rebuilt: same snapshot (so the same counters), same generation
            Assert.NotSame(changedIndex, changed.Current);
            Assert.Equal(changedIndex.Generation + 1, changed.Current.Generation);
        }
    }

    [Fact]
    public void AReloadThatFailsHalfway_PublishesNothing()
    {
        // Two services; the edit changes the first validly and takes the second over a limit. The reader meets the
        // second's error after it has compiled the first: nothing of the edit may be published.
        var other = Path.Combine(_dir, "other.yaml");
        File.WriteAllText(other, Fixtures.Dr.Replace("helloworld", "other", StringComparison.Ordinal) + "\n---\n" + Endpoints("dev").Replace("helloworld", "other", StringComparison.Ordinal));
        File.WriteAllText(RulesFile, Fixtures.Dr + "\n---\n" + Fixtures.Vs);
        File.WriteAllText(EndpointsFile, Endpoints("dev"));
        using var watcher = new MeshConfigurationWatcher([RulesFile, EndpointsFile, other], _logger, new()
        {
            Limits = new MeshConfigurationLimits { MaxEndpointsPerService = 2 },
        });
        watcher.TryGetService("helloworld", out _, out var helloworld);
        var before = helloworld!.Current;
        var catalog = watcher.Current;

        File.WriteAllText(EndpointsFile, Endpoints("qa"));
        File.WriteAllText(other, File.ReadAllText(other).Replace("    - {address: 127.0.0.12", "    - {address: 127.0.0.13, labels: {stage: dev}}\n    - {address: 127.0.0.12", StringComparison.Ordinal));

        Assert.False(watcher.Reload());
        Assert.Same(before, helloworld.Current);
        Assert.Same(catalog, watcher.Current);
        Assert.Equal(1, watcher.Version);
        Assert.Contains("DSR1009", watcher.Status.LastError!.Details[0], StringComparison.Ordinal);
        Assert.Equal(RoutingCatalogSyncState.Synced, watcher.Status.SyncState);
    }

    [Fact]
    public async Task AnExceptionInAReload_IsLoggedAndKeepsTheLastGood_NeverReachingTheTimerThread()
    {
        using var watcher = Start();
        var throwing = true;
        watcher.Reloaded += (_, _) =>
        {
            if (throwing)
            {
                throw new InvalidOperationException("a subscriber failed");
            }
        };

        await File.WriteAllTextAsync(EndpointsFile, Endpoints("qa"), TestContext.Current.CancellationToken);
        await OptionsTests.Eventually(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Id == 14));

        Assert.Contains("a subscriber failed", _logger.Collector.GetSnapshot().Single(r => r.Id.Id == 14).Message, StringComparison.Ordinal);
        Assert.StartsWith("a reload threw InvalidOperationException; version ", watcher.Status.LastError!.Summary, StringComparison.Ordinal);
        throwing = false;
        Assert.True(watcher.Reload()); // and the watcher goes on
    }

    [Fact]
    public async Task NewFileRenamedOverTheOld_Reloads()
    {
        using var watcher = Start();
        var reloaded = new TaskCompletionSource();
        watcher.Reloaded += (_, e) => { if (e.Succeeded) { reloaded.TrySetResult(); } };
        var temp = Path.Combine(_dir, ".endpoints.yaml.tmp");

        await File.WriteAllTextAsync(temp, Endpoints("qa"), TestContext.Current.CancellationToken);
        File.Move(temp, EndpointsFile, overwrite: true);
        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        watcher.TryGetService("helloworld", out var service, out _);
        Assert.Equal("qa", service!.Endpoints.First(e => e.AddressText == "127.0.0.11").Labels["stage"]);
    }

    [Fact]
    public async Task BrokenEdit_IsRejectedWithFileAndLine_AndLastGoodKeepsServing()
    {
        using var watcher = Start();
        watcher.TryGetService("helloworld", out _, out var resolver);
        var before = resolver!.Current;
        var rejected = new TaskCompletionSource<MeshConfigurationReloadedEventArgs>();
        watcher.Reloaded += (_, e) => { if (!e.Succeeded) { rejected.TrySetResult(e); } };

        await File.WriteAllTextAsync(RulesFile, Fixtures.Dr.Replace("keys: [stage, version]", "keys: stage", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var result = await rejected.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(1, result.Version);
        Assert.Equal(1, watcher.Version);
        Assert.Same(before, resolver.Current);
        Assert.Equal("127.0.0.11", resolver.Resolve(DevV1).Endpoint?.AddressText);
        var error = Assert.Single(watcher.LastError!.Errors);
        Assert.Equal($"{RulesFile}:11:19: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys: expected a list, found 'stage'", error.ToString());
        var log = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 12);
        Assert.Equal(LogLevel.Error, log.Level);
        Assert.StartsWith($"Rejected edit of {RulesFile}:11:", log.Message, StringComparison.Ordinal);

        // The fix applies.
        var applied = new TaskCompletionSource();
        watcher.Reloaded += (_, e) => { if (e.Succeeded) { applied.TrySetResult(); } };
        await File.WriteAllTextAsync(RulesFile, Fixtures.Dr + "\n---\n" + Fixtures.Vs, TestContext.Current.CancellationToken);
        await applied.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Null(watcher.LastError);
        Assert.Equal(2, watcher.Version);
    }

    [Fact]
    public async Task BurstOfWrites_CollapsesIntoOneReload()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var watcher = Start(time);
        var reloads = 0;
        watcher.Reloaded += (_, _) => Interlocked.Increment(ref reloads);

        for (var i = 0; i < 5; i++)
        {
            await File.WriteAllTextAsync(EndpointsFile, Endpoints($"s{i}"), TestContext.Current.CancellationToken);
        }

        await OptionsTests.Eventually(() => watcher.IsReloadPending);
        await Task.Delay(300, TestContext.Current.CancellationToken); // let the rest of the burst's events arrive; fake time stands still
        Assert.Equal(0, reloads);

        time.Advance(TimeSpan.FromMilliseconds(150));

        Assert.Equal(1, reloads);
        Assert.Equal(2, watcher.Version);
        watcher.TryGetService("helloworld", out var service, out _);
        Assert.Equal("s4", service!.Endpoints.First(e => e.AddressText == "127.0.0.11").Labels["stage"]);
    }

    [Fact]
    public async Task ContinuousWrites_StillReloadWithinMaxDelay()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var watcher = Start(time);
        var reloads = 0;
        watcher.Reloaded += (_, _) => Interlocked.Increment(ref reloads);

        // A write every 100 ms of fake time keeps the 150 ms debounce from ever settling; the 750 ms cap fires anyway.
        for (var i = 0; i < 8 && reloads == 0; i++)
        {
            await File.WriteAllTextAsync(EndpointsFile, Endpoints($"s{i}"), TestContext.Current.CancellationToken);
            await OptionsTests.Eventually(() => watcher.IsReloadPending || reloads > 0);
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(1, reloads);
        Assert.True(time.GetUtcNow() - DateTimeOffset.UnixEpoch <= TimeSpan.FromMilliseconds(800));
    }
}
