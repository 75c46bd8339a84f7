using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using DynamicSubset.Routing.Http;
using DynamicSubset.Routing.Http.Tests;
using k8s;
using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Kubernetes.Tests;

/// <summary>
/// The cluster as the routing catalog, against a stand-in API server on 127.0.30.1 that speaks the real wire protocol
/// (no real cluster runs here), with the walkthrough's six pods as real Kestrel workloads on 127.0.31.11-16 and requests
/// through the real HttpClient handler.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private FakeApiServer _api = null!;
    private Helloworld _pods = null!;
    private ServiceProvider _provider = null!;
    private KubernetesRoutingCatalog _catalog = null!;

    public async ValueTask InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync("127.0.30.1");
        _pods = await Helloworld.StartAsync(block: 31);
        foreach (var pod in _pods.Pods)
        {
            _api.Put("pods", Pod(pod.Name, pod.Ip, pod.Stage, pod.Version));
        }

        _api.Put("services", Service());
        _api.Put("destinationrules", DestinationRule("NO_FALLBACK"));
        _api.Put("virtualservices", VirtualService());
    }

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _api.DisposeAsync();
        await _pods.DisposeAsync();
    }

    private async Task StartCatalogAsync(Action<KubernetesRoutingOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromKubernetes(o =>
        {
            o.ClientConfiguration = new KubernetesClientConfiguration { Host = _api.Address.ToString() };
            o.Namespaces.Add("default");
            o.MinBackoff = TimeSpan.FromMilliseconds(50);
            o.MaxBackoff = TimeSpan.FromMilliseconds(400);
            configure?.Invoke(o);
        });
        services.AddHttpClient("helloworld", c => c.BaseAddress = new Uri("http://helloworld.default.svc.cluster.local:8000")).AddDynamicSubsetRouting();
        _provider = services.BuildServiceProvider();
        _catalog = (KubernetesRoutingCatalog)_provider.GetRequiredService<RoutingCatalog>();
        await _catalog.WaitForSyncAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string stage, string version)
    {
        var client = _provider.GetRequiredService<IHttpClientFactory>().CreateClient("helloworld");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("x-stage", stage);
        request.Headers.Add("x-version", version);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private async Task<long> EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"not within 15 s: {what}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return watch.ElapsedMilliseconds;
    }

    [Fact]
    public async Task Walkthrough_FromObjectsInTheApi_Step2Answers()
    {
        await StartCatalogAsync();

        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await GetAsync("dev", "v1"));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await GetAsync("prod", "v1"));
        Assert.Equal(RoutingCatalogSyncState.Synced, _catalog.Status.SyncState);
        Assert.Equal("helloworld.default.svc.cluster.local", Assert.Single(_catalog.Current.Services).Name);
        Assert.Equal("cluster default", _catalog.Description);
        Assert.Matches("^[0-9]+$", _catalog.SourceDetails["resourceVersion of Pod in default"]);
        Assert.Equal(6, _catalog.SourceDetails.Count); // one informer per kind
    }

    [Fact]
    public async Task AFirstSync_ListsInPagesOf500_AndEveryPodArrives()
    {
        for (var i = 0; i < 1_194; i++)
        {
            _api.Put("pods", Pod($"extra-{i}", $"10.9.{i / 250}.{(i % 250) + 1}", "extra", "v0")); // six real pods and 1,194 more: 1,200
        }

        await StartCatalogAsync();

        var service = Assert.Single(_catalog.Current.Services);
        Assert.Equal(1_200, service.Resolver.Current.Endpoints.Length);
        Assert.Equal(500, _api.PageLimits.Max());
        Assert.True(_api.PageLimits.Count >= 6 + 2, $"{_api.PageLimits.Count} list requests: the pods took one page, not three"); // each kind pages; pods need three
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await GetAsync("dev", "v1"));
    }

    [Fact]
    public async Task ARelabel_IsAppliedPodByPod_WithoutACompile_AsItsMetricsSay()
    {
        await StartCatalogAsync();
        var meters = _provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var compiles = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meters, "DynamicSubset.Routing", "dynamic_subset.kubernetes.compiles");
        using var durations = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(meters, "DynamicSubset.Routing", "dynamic_subset.kubernetes.apply.duration");
        var service = Assert.Single(_catalog.Current.Services);
        var before = service.Resolver.Current;

        _api.Put("pods", Pod("dev-v2", _pods["dev-v2"].Ip, "dev", "v7"));
        await EventuallyAsync(async () => (await GetAsync("dev", "v7")).Body == _pods["dev-v2"].Greeting, "the relabel shows");

        Assert.Same(service, _catalog.Current.Services[0]); // no catalog swap: the index took the change
        Assert.Equal(before.Generation + 1, service.Resolver.Current.Generation);
        var compiled = Assert.Single(compiles.GetMeasurementSnapshot());
        Assert.Equal(("{batch}", 1L, "incremental"), (compiles.Instrument!.Unit, compiled.Value, (string?)compiled.Tags["dynamic_subset.kubernetes.mode"]));
        var applied = Assert.Single(durations.GetMeasurementSnapshot());
        Assert.Equal(("s", "incremental"), (durations.Instrument!.Unit, (string?)applied.Tags["dynamic_subset.kubernetes.mode"]));
        Assert.InRange(applied.Value, 0, 10);
    }

    [Fact]
    public async Task AContinueTokenThatExpires_StartsTheListAgain_AndNothingIsLostOrDoubled()
    {
        for (var i = 0; i < 1_194; i++)
        {
            _api.Put("pods", Pod($"extra-{i}", $"10.9.{i / 250}.{(i % 250) + 1}", "extra", "v0"));
        }

        _api.ExpireNextContinue = true; // the pods' second page is refused 410 Expired: the informer lists again from the start

        await StartCatalogAsync(o => o.ListPageSize = 400);

        var endpoints = Assert.Single(_catalog.Current.Services).Resolver.Current.Endpoints;
        Assert.True(endpoints.Length == 1_200, $"{endpoints.Length} endpoints; status {_catalog.Status.SyncState} {_catalog.Status.LastError}");
        Assert.False(_api.ExpireNextContinue);
        Assert.Equal(400, _api.PageLimits.Max());
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await GetAsync("dev", "v1"));
    }

    [Fact]
    public async Task TheServicePortsProtocol_DecidesTheUpstreamVersion_AndFollowsItsEdits()
    {
        await StartCatalogAsync();
        Assert.Equal(UpstreamProtocol.Http1, Assert.Single(_catalog.Current.Services).Protocol); // the port is named http

        var service = Service();
        service["spec"]!["ports"]![0]!["appProtocol"] = "kubernetes.io/h2c";
        _api.Put("services", service);
        await EventuallyAsync(() => Task.FromResult(_catalog.Current.Services[0].Protocol == UpstreamProtocol.Http2), "appProtocol: kubernetes.io/h2c makes the pods HTTP/2");
    }

    [Fact]
    public async Task IstioServingOnlyV1beta1_TheRulesAreReadFromIt()
    {
        // An Istio older than 1.22: networking.istio.io/v1 answers 404, v1beta1 serves the same objects.
        _api.IstioVersion = "v1beta1";
        await StartCatalogAsync();

        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await GetAsync("dev", "v1"));
        Assert.Equal("helloworld.default.svc.cluster.local", Assert.Single(_catalog.Current.Services).Name);

        _api.Put("destinationrules", DestinationRule("DEFAULT_SUBSET"));
        await EventuallyAsync(async () => (await GetAsync("prod", "v1")).Status == HttpStatusCode.OK, "a DestinationRule edit through v1beta1 takes effect");
    }

    [Fact]
    public async Task PodLabelSelector_NarrowsThePods_AndAPodRelabelledAcrossIt_LeavesAndComesBack()
    {
        await StartCatalogAsync(o => o.PodLabelSelector = "app=helloworld,stage!=prod");

        Assert.Equal((HttpStatusCode.OK, _pods["dev-v2"].Greeting), await GetAsync("dev", "v2"));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await GetAsync("prod", "v2")); // not selected, so not known
        Assert.Equal(3, _catalog.Current.Services[0].Resolver.Current.Endpoints.Length);

        // Out of the selector: the API server's watch says DELETED, and the pod leaves routing.
        _api.Put("pods", Pod("dev-v1", _pods["dev-v1"].Ip, "prod", "v1"));
        await EventuallyAsync(() => Task.FromResult(_catalog.Current.Services[0].Resolver.Current.Endpoints.Length == 2), "the pod relabelled out of the selector is gone");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await GetAsync("dev", "v1"));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await GetAsync("prod", "v1"));

        // Back into it: ADDED, and it answers again.
        _api.Put("pods", Pod("dev-v1", _pods["dev-v1"].Ip, "dev", "v1"));
        await EventuallyAsync(async () => (await GetAsync("dev", "v1")).Body == _pods["dev-v1"].Greeting, "the pod relabelled back into the selector answers");
    }

    [Fact]
    public async Task SlowFirstList_NothingIsPublishedBeforeEveryKindHasSynced()
    {
        _api.FirstListDelay = TimeSpan.FromMilliseconds(700);
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromKubernetes(o => o.ClientConfiguration = new KubernetesClientConfiguration { Host = _api.Address.ToString() });
        _provider = services.BuildServiceProvider();
        _catalog = (KubernetesRoutingCatalog)_provider.GetRequiredService<RoutingCatalog>();

        Assert.Equal((RoutingCatalogSyncState.Syncing, 0L), (_catalog.Status.SyncState, _catalog.Current.Version));
        await _catalog.WaitForSyncAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal((RoutingCatalogSyncState.Synced, 1L), (_catalog.Status.SyncState, _catalog.Current.Version));
    }

    [Fact]
    public async Task RelabelledPod_AnswersInItsNewSubset_WithNoRuleChange()
    {
        await StartCatalogAsync();
        var rules = _catalog.Current.Version;

        _api.Put("pods", Pod("dev-v2", _pods["dev-v2"].Ip, "dev", "v9"));
        var took = await EventuallyAsync(async () => (await GetAsync("dev", "v9")).Body == _pods["dev-v2"].Greeting, "the relabelled pod answers for dev/v9");

        TestContext.Current.TestOutputHelper?.WriteLine($"relabel answered after {took} ms");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await GetAsync("dev", "v2"));
        Assert.Equal(rules, _catalog.Current.Version); // pods only: applied to the index, no catalog swap
    }

    [Fact]
    public async Task APodEventLargerThanManyReads_ArrivesWhole_AndTheNextOneToo()
    {
        await StartCatalogAsync();

        // 2 MB of annotation: the event comes over the watch stream in many reads, and is one line all the same.
        var watches = Volatile.Read(ref _api.Watches);
        var large = Pod("dev-v2", _pods["dev-v2"].Ip, "dev", "v9");
        large["metadata"]!["annotations"] = new JsonObject { ["bulk"] = new string('x', 2 * 1024 * 1024) };
        _api.Put("pods", large);
        await EventuallyAsync(async () => (await GetAsync("dev", "v9")).Body == _pods["dev-v2"].Greeting, "the pod with the large event answers for dev/v9");

        _api.Put("pods", Pod("dev-v2", _pods["dev-v2"].Ip, "dev", "v10"));
        await EventuallyAsync(async () => (await GetAsync("dev", "v10")).Body == _pods["dev-v2"].Greeting, "the event after it arrives");
        Assert.Equal(watches, Volatile.Read(ref _api.Watches)); // on the same watch: none broke and was started again
    }

    [Fact]
    public async Task PodNotReady_GetsNoTraffic_AndReadyAgain_GetsIt()
    {
        await StartCatalogAsync();

        _api.Put("pods", Pod("dev-v1", _pods["dev-v1"].Ip, "dev", "v1", ready: false));
        await EventuallyAsync(async () => (await GetAsync("dev", "v1")).Status == HttpStatusCode.ServiceUnavailable, "not ready: no healthy upstream");
        _api.Put("pods", Pod("dev-v1", _pods["dev-v1"].Ip, "dev", "v1", ready: true));
        await EventuallyAsync(async () => (await GetAsync("dev", "v1")).Status == HttpStatusCode.OK, "ready again: traffic");
    }

    [Fact]
    public async Task DestinationRuleEdit_NoFallbackToDefaultSubset_TakesEffect()
    {
        await StartCatalogAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync("prod", "v1")).Status);

        _api.Put("destinationrules", DestinationRule("DEFAULT_SUBSET"));

        await EventuallyAsync(async () => (await GetAsync("prod", "v1")).Body is var b && (b == _pods["prod-v3-a"].Greeting || b == _pods["prod-v3-b"].Greeting), "DEFAULT_SUBSET answers from prod/v3");
    }

    [Fact]
    public async Task WatchCut_ThenAChange_TheChangeArrives()
    {
        await StartCatalogAsync();
        var watches = _api.Watches;

        _api.CutWatches();
        await EventuallyAsync(() => Task.FromResult(_api.Watches > watches + 5), "the watches resume");
        _api.Put("pods", Pod("dev-v3", _pods["dev-v3"].Ip, "dev", "v8"));

        await EventuallyAsync(async () => (await GetAsync("dev", "v8")).Body == _pods["dev-v3"].Greeting, "the change after the cut arrives");
    }

    [Theory]
    [InlineData(false)] // the watch answers 200 with one ERROR event carrying a 410 Status (what the watch cache does)
    [InlineData(true)] // the watch request itself answers HTTP 410 (KubernetesClient throws)
    public async Task HistoryCompactedWhileDisconnected_RelistAppliesTheDifference_DeletionsIncluded(bool goneAsStatusCode)
    {
        _api.GoneAsStatusCode = goneAsStatusCode;
        await StartCatalogAsync();
        var meters = _provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var relists = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meters, "DynamicSubset.Routing", "dynamic_subset.kubernetes.relists");
        using var restarts = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meters, "DynamicSubset.Routing", "dynamic_subset.kubernetes.watch.restarts");
        using var delays = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(meters, "DynamicSubset.Routing", "dynamic_subset.kubernetes.publish.delay");
        var lists = _api.Lists;
        await _api.StopAsync();

        // While the catalog cannot reach the API: one pod deleted, another relabelled, and the history compacted.
        _api.Delete("pods", "default", "dev-v1");
        _api.Put("pods", Pod("dev-v2", _pods["dev-v2"].Ip, "dev", "v7"));
        _api.Compact();
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("dev", "v1")).Status); // the last known state serves meanwhile
        await _api.RestartAsync();

        await EventuallyAsync(async () => (await GetAsync("dev", "v7")).Body == _pods["dev-v2"].Greeting, "the relabel made while disconnected shows");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await GetAsync("dev", "v1"));

        // Every informer came back with an expired resourceVersion: each got a 410 and relisted, once.
        Assert.Equal(6, relists.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(6, _api.Lists - lists); // one relist per informer, no more
        Assert.NotEmpty(restarts.GetMeasurementSnapshot());
        Assert.Contains(delays.GetMeasurementSnapshot(), m => m.Value is >= 0 and < 10);
    }

    [Fact]
    public async Task InvalidDestinationRule_TheLastGoodOneKeepsServing()
    {
        await StartCatalogAsync();
        var invalid = DestinationRule("NO_FALLBACK");
        invalid["spec"]!["trafficPolicy"]!["loadBalancer"]!["dynamicSubset"]!["subsetSelectors"]![0]!["fallbackPolicy"] = "ANY";

        _api.Put("destinationrules", invalid);
        await EventuallyAsync(() => Task.FromResult(_catalog.Status.LastError is not null), "the rejection is recorded");

        Assert.Equal("DestinationRule default/helloworld: DSR1004 spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackPolicy", _catalog.Status.LastError!.Details[0]);
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await GetAsync("dev", "v1"));
    }

    [Fact]
    public async Task UnreadablePod_FromTheApi_TheLastKnownStateKeepsServing_UntilItIsFixed()
    {
        await StartCatalogAsync();

        // A label that is a number, not a string: KubernetesClient cannot read the watch event. It hands the error to
        // the callback and goes on, so the pod's last readable version stays and other changes still arrive.
        var broken = Pod("dev-v3", _pods["dev-v3"].Ip, "dev", "v3");
        broken["metadata"]!["labels"]!["version"] = 3;
        _api.Put("pods", broken);
        _api.Put("pods", Pod("prod-v2", _pods["prod-v2"].Ip, "prod", "v6"));
        await EventuallyAsync(async () => (await GetAsync("prod", "v6")).Body == _pods["prod-v2"].Greeting, "a later change to another pod arrives");
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v3"].Greeting), await GetAsync("dev", "v3"));

        // A relist cannot read the list either: the catalog goes stale and keeps serving what it knew.
        _api.Compact();
        _api.CutWatches();
        await EventuallyAsync(() => Task.FromResult(_catalog.Status.SyncState == RoutingCatalogSyncState.Stale), "the catalog says it is stale");
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v1"].Greeting), await GetAsync("dev", "v1"));
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v3"].Greeting), await GetAsync("dev", "v3"));

        // Fixed: the next relist reads it.
        _api.Put("pods", Pod("dev-v3", _pods["dev-v3"].Ip, "dev", "v8"));
        await EventuallyAsync(async () => (await GetAsync("dev", "v8")).Body == _pods["dev-v3"].Greeting, "the fixed pod is read");
        await EventuallyAsync(() => Task.FromResult(_catalog.Status.SyncState == RoutingCatalogSyncState.Synced), "synced again");
    }

    [Fact]
    public async Task ApiOutage_WithRequestsFlowing_NoneFail_AndChangesArriveAfterIt()
    {
        await StartCatalogAsync();
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                failures += (await GetAsync("dev", "v1")).Status == HttpStatusCode.OK ? 0 : 1;
            }
        }, TestContext.Current.CancellationToken);

        await _api.StopAsync(); // connection refused
        await EventuallyAsync(() => Task.FromResult(_catalog.Status.SyncState == RoutingCatalogSyncState.Stale), "the catalog says it is stale");
        await _api.RestartAsync();
        _api.Unavailable = true; // up, but answering 503
        await Task.Delay(300, TestContext.Current.CancellationToken);
        _api.Unavailable = false;
        _api.Put("pods", Pod("prod-v2", _pods["prod-v2"].Ip, "prod", "v6"));
        await EventuallyAsync(async () => (await GetAsync("prod", "v6")).Body == _pods["prod-v2"].Greeting, "changes arrive again");
        await stop.CancelAsync();
        await load;

        Assert.Equal(0, failures);
        await EventuallyAsync(() => Task.FromResult(_catalog.Status.SyncState == RoutingCatalogSyncState.Synced), "synced again");
    }

    [Fact]
    public async Task RelabelsOfOtherPods_TwentyASecond_LoseOrMisrouteNoRequest()
    {
        await StartCatalogAsync();
        using var stop = new CancellationTokenSource();
        var relabels = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                _api.Put("pods", Pod("dev-v3", _pods["dev-v3"].Ip, "dev", i % 2 == 0 ? "v3" : "v5"));
                _api.Put("pods", Pod("prod-v2", _pods["prod-v2"].Ip, "prod", i % 2 == 0 ? "v2" : "v4"));
                await Task.Delay(100);
            }
        }, TestContext.Current.CancellationToken);

        var answers = new List<(HttpStatusCode, string)>();
        for (var i = 0; i < 300; i++)
        {
            answers.Add(await GetAsync("prod", "v3"));
        }

        await stop.CancelAsync();
        await relabels;
        Assert.All(answers, a => Assert.Contains(a, new[] { (HttpStatusCode.OK, _pods["prod-v3-a"].Greeting), (HttpStatusCode.OK, _pods["prod-v3-b"].Greeting) }));
    }

    [Fact]
    public async Task ABurstOfPodChanges_IsAppliedOnce_AfterItsQuietSpell()
    {
        // A quiet spell far longer than the puts below take, even on a loaded machine: the three changes are one burst.
        await StartCatalogAsync(o => (o.Debounce, o.MaxDelay) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60)));
        var resolver = _catalog.Current.Services.Single(s => s.Name == "helloworld.default.svc.cluster.local").Resolver;
        var generation = resolver.Current.Generation;
        var changed = new TaskCompletionSource<SubsetIndex>(TaskCreationOptions.RunContinuationsAsynchronously);
        resolver.Changed += (_, e) => changed.TrySetResult(e.Current);

        _api.Put("pods", Pod("dev-v1", _pods["dev-v1"].Ip, "dev", "v7"));
        _api.Put("pods", Pod("dev-v2", _pods["dev-v2"].Ip, "dev", "v8"));
        _api.Put("pods", Pod("prod-v2", _pods["prod-v2"].Ip, "prod", "v9"));
        var index = await changed.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.Equal(generation + 1, index.Generation); // one apply for the burst
        Assert.Equal(["v7", "v8", "v9"], new[] { "dev-v1", "dev-v2", "prod-v2" }.Select(pod => index.Endpoints.Single(e => e.Name == pod).Labels["version"]));
    }

    [Fact]
    public async Task ChangesThatNeverGoQuiet_ArePublishedAtMaxDelay_WhileTheyKeepComing()
    {
        // The quiet spell (10 s) never comes while a pod changes every 50 ms: only MaxDelay can end the burst.
        await StartCatalogAsync(o => (o.Debounce, o.MaxDelay) = (TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(300)));
        var resolver = _catalog.Current.Services.Single(s => s.Name == "helloworld.default.svc.cluster.local").Resolver;
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        resolver.Changed += (_, _) => changed.TrySetResult();

        var clock = Stopwatch.StartNew();
        for (var i = 0; !changed.Task.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(8); i++)
        {
            _api.Put("pods", Pod("dev-v3", _pods["dev-v3"].Ip, "dev", $"v{10 + i}")); // a new version each time: no burst undoes itself
            await Task.WhenAny(changed.Task, Task.Delay(50, TestContext.Current.CancellationToken));
        }

        Assert.True(changed.Task.IsCompleted, "published while the changes kept coming (before any quiet spell)");
    }

    [Fact]
    public async Task AChangeThatArrivesDuringAnApply_WaitsMaxDelayFromItsArrival_NotFromTheApplysEnd()
    {
        // No quiet spell ends a burst here, only MaxDelay. The first publish is held on the publishing thread (the
        // resolver's Changed event runs there) until MaxDelay has passed since the second change was sent. That
        // change's MaxDelay is then over, so it is published at once: counted from the end of the held apply it would
        // wait MaxDelay more (3 s), and the bound below (2 s after the hold) would fail.
        var maxDelay = TimeSpan.FromSeconds(3);
        await StartCatalogAsync(o => (o.Debounce, o.MaxDelay) = (TimeSpan.FromSeconds(60), maxDelay));
        var resolver = _catalog.Current.Services.Single(s => s.Name == "helloworld.default.svc.cluster.local").Resolver;
        using var hold = new ManualResetEventSlim();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        resolver.Changed += (_, e) =>
        {
            if (e.Current.Endpoints.Any(p => p.Labels["version"] == "v21"))
            {
                second.TrySetResult(Stopwatch.GetTimestamp());
            }
            else if (holding.TrySetResult())
            {
                hold.Wait(TimeSpan.FromSeconds(30));
            }
        };

        _api.Put("pods", Pod("dev-v1", _pods["dev-v1"].Ip, "dev", "v20"));
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        var sent = Stopwatch.GetTimestamp();
        _api.Put("pods", Pod("dev-v2", _pods["dev-v2"].Ip, "dev", "v21"));
        await Task.Delay(maxDelay, TestContext.Current.CancellationToken); // the span being tested: the change waits it out behind the hold
        var released = Stopwatch.GetTimestamp();
        hold.Set();
        var published = await second.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.True(Stopwatch.GetElapsedTime(released, published) < TimeSpan.FromSeconds(2),
            $"published {Stopwatch.GetElapsedTime(sent, published).TotalSeconds:0.00} s after it was sent, {Stopwatch.GetElapsedTime(released, published).TotalSeconds:0.00} s after the held apply ended");
    }

    [Fact]
    public async Task VirtualServiceRoutes_FromTheApi_MatchAStaticSubset_ThatFollowsPodRelabels()
    {
        var rule = DestinationRule("NO_FALLBACK");
        rule["spec"]!["subsets"] = JsonNode.Parse("""[{"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}}}]""");
        _api.Put("destinationrules", rule);
        var routes = VirtualService();
        var http = routes["spec"]!["http"]!.AsArray();
        http.Insert(0, JsonNode.Parse("""
            {"name": "admin", "match": [{"uri": {"prefix": "/admin"}}],
             "route": [{"destination": {"host": "helloworld.default.svc.cluster.local", "subset": "v1", "port": {"number": 8000}}}]}
            """));
        _api.Put("virtualservices", routes);
        await StartCatalogAsync();
        var client = _provider.GetRequiredService<IHttpClientFactory>().CreateClient("helloworld");
        async Task<string> Admin() => await client.GetStringAsync("/admin", TestContext.Current.CancellationToken);

        Assert.Equal(_pods["dev-v1"].Greeting, await Admin());
        Assert.Equal((HttpStatusCode.OK, _pods["dev-v2"].Greeting), await GetAsync("dev", "v2")); // the default route, as before

        // A pod relabelled into the subset joins it, through the incremental pod path, with no rule change.
        _api.Put("pods", Pod("prod-v2", _pods["prod-v2"].Ip, "prod", "v1"));
        await EventuallyAsync(async () => await Admin() == _pods["prod-v2"].Greeting, "a relabelled pod joins the static subset");
        Assert.Contains(_catalog.Current.Services, s => s.Name == "helloworld.default.svc.cluster.local/v1");
    }

    private static JsonObject Pod(string name, string ip, string stage, string version, bool ready = true) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "default",
            ["labels"] = new JsonObject { ["app"] = "helloworld", ["stage"] = stage, ["version"] = version },
        },
        ["spec"] = JsonNode.Parse($"{{\"containers\": [{{\"name\": \"helloworld\", \"ports\": [{{\"containerPort\": {Helloworld.Port}}}]}}]}}"),
        ["status"] = new JsonObject
        {
            ["podIP"] = ip,
            ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip }),
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
        },
    };

    private static JsonObject Service() => JsonNode.Parse(
        "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"helloworld\", \"namespace\": \"default\"}, " +
        $"\"spec\": {{\"selector\": {{\"app\": \"helloworld\"}}, \"ports\": [{{\"name\": \"http\", \"port\": 8000, \"targetPort\": {Helloworld.Port}}}]}}}}")!.AsObject();

    private static JsonObject DestinationRule(string fallback)
    {
        var rule = JsonNode.Parse("""
            {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"host": "helloworld.default.svc.cluster.local", "trafficPolicy": {"loadBalancer": {"dynamicSubset": {
               "subsetSelectors": [{"keys": ["stage", "version"], "fallbackPolicy": "NO_FALLBACK"}],
               "defaultSubset": {"stage": "prod", "version": "v3"}}}}}}
            """)!.AsObject();
        rule["spec"]!["trafficPolicy"]!["loadBalancer"]!["dynamicSubset"]!["subsetSelectors"]![0]!["fallbackPolicy"] = fallback;
        return rule;
    }

    private static JsonObject VirtualService() => JsonNode.Parse("""
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "helloworld", "namespace": "default"},
         "spec": {"hosts": ["helloworld.default.svc.cluster.local"], "http": [{"name": "default",
           "headerToDynamicSubsetKey": [{"header": "x-version", "key": "version", "defaultValue": "v3"}, {"header": "x-stage", "key": "stage", "defaultValue": "prod"}],
           "route": [{"destination": {"host": "helloworld.default.svc.cluster.local", "port": {"number": 8000}}}]}]}}
        """)!.AsObject();
}
