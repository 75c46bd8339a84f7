using System.Threading.Channels;
using DynamicSubset.Routing.Configuration;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>
/// The routing catalog of a Kubernetes cluster: Pods, Services and Istio's DestinationRules, VirtualServices,
/// ServiceEntries and WorkloadEntries, watched through the API server and compiled as the mesh YAML files are.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is published before every watched kind has finished its first list (<see cref="RoutingCatalog.Status"/> is
/// <see cref="RoutingCatalogSyncState.Syncing"/> until then; <see cref="WaitForSyncAsync"/> waits for it). Bursts of
/// changes are coalesced into one publish. A change of pods only is applied to each service's index incrementally; a
/// change of rules builds every service's next index first and publishes them in one swap.
/// </para>
/// <para>
/// An object whose new version is invalid is rejected alone, logged with <c>Kind namespace/name</c> and the field, and
/// its last good version keeps serving. While the API server cannot be reached the status is
/// <see cref="RoutingCatalogSyncState.Stale"/> and the last known state keeps serving: nothing is removed because of it.
/// </para>
/// </remarks>
public sealed partial class KubernetesRoutingCatalog : RoutingCatalog
{
    private readonly KubernetesRoutingOptions _options;
    private readonly ILogger _logger;
    private readonly k8s.Kubernetes _client;
    private readonly KubernetesTelemetry _telemetry;
    private readonly List<Informer> _informers = [];
    private readonly Channel<ObjectChange> _changes = Channel.CreateUnbounded<ObjectChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly MeshDocumentSet _documents;
    private readonly MeshServiceResolvers _resolvers;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MeshConfiguration? _compiled; // the last compile that published: the rules pod changes are applied under
    private readonly HashSet<string> _pendingKinds;
    private readonly List<Task> _tasks = [];
    private int _unreachable;

    /// <summary>Initializes a new instance of the <see cref="KubernetesRoutingCatalog"/> class, and starts watching.</summary>
    /// <param name="options">Where the cluster is and what to watch.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <param name="meterFactory">The meter factory for the cluster source's instruments; <see langword="null"/> for a meter of its own.</param>
    public KubernetesRoutingCatalog(KubernetesRoutingOptions options, ILogger<KubernetesRoutingCatalog>? logger = null, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
        : base(Describe(options), options?.TimeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _resolvers = new MeshServiceResolvers(options.TimeProvider);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _telemetry = new KubernetesTelemetry(meterFactory);
        _documents = new MeshDocumentSet(options.Limits);
        _client = new k8s.Kubernetes(options.Build());

        ResourceKind[] kinds =
        [
            new PodKind(options.PodLabelSelector),
            new CoreKind<V1Service, V1ServiceList>(
                "Service",
                static (c, ns, page, ct) => ns is null
                    ? c.CoreV1.ListServiceForAllNamespacesWithHttpMessagesAsync(continueParameter: page.Continue, limit: page.Limit, cancellationToken: ct)
                    : c.CoreV1.ListNamespacedServiceWithHttpMessagesAsync(ns, continueParameter: page.Continue, limit: page.Limit, cancellationToken: ct),
                static (c, ns, rv, onError, ct) => ns is null
                    ? c.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, onError: onError, cancellationToken: ct)
                    : c.CoreV1.WatchListNamespacedServiceAsync(ns, allowWatchBookmarks: true, resourceVersion: rv, onError: onError, cancellationToken: ct)),
            new IstioKind("DestinationRule", "destinationrules"),
            new IstioKind("VirtualService", "virtualservices"),
            new IstioKind("ServiceEntry", "serviceentries"),
            new IstioKind("WorkloadEntry", "workloadentries"),
        ];
        string?[] namespaces = options.Namespaces.Count == 0 ? [null] : [.. options.Namespaces.Distinct(StringComparer.Ordinal)];
        _pendingKinds = [.. kinds.SelectMany(k => namespaces.Select(ns => k.Kind + "|" + ns))];
        foreach (var kind in kinds)
        {
            foreach (var ns in namespaces)
            {
                var informer = new Informer(_client, kind, ns, new SyncTagger(_changes.Writer, kind.Kind + "|" + ns), options, _telemetry, _logger);
                informer.Unreachable += OnUnreachable;
                _informers.Add(informer);
            }
        }

        _tasks.Add(Task.Run(() => PublishLoopAsync(_stop.Token)));
        foreach (var informer in _informers)
        {
            _tasks.Add(Task.Run(() => informer.RunAsync(_stop.Token)));
        }
    }

    /// <summary>Gets the last resourceVersion seen per watched kind (and namespace), for operators.</summary>
    public IReadOnlyDictionary<string, string?> ResourceVersions => _informers.ToDictionary(static i => i.Name, static i => i.ResourceVersion);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> SourceDetails =>
        _informers.ToDictionary(static i => $"resourceVersion of {i.Name}", static i => i.ResourceVersion ?? "(relisting)");

    /// <summary>Waits until every watched kind has finished its first list and the result is published.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes on the first publish.</returns>
    public Task WaitForSyncAsync(CancellationToken cancellationToken = default) => _synced.Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _stop.Cancel();
        try
        {
            Task.WaitAll([.. _tasks], TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled or faulted on the way out: nothing more to do.
        }

        _stop.Dispose();
        _client.Dispose();
        base.Dispose(disposing);
    }

    private static string Describe(KubernetesRoutingOptions? options) =>
        "cluster " + (options is null || options.Namespaces.Count == 0 ? "(all namespaces)" : string.Join(", ", options.Namespaces));

    private void OnUnreachable(bool unreachable)
    {
        var count = unreachable ? Interlocked.Increment(ref _unreachable) : Interlocked.Decrement(ref _unreachable);
        if (_synced.Task.IsCompleted)
        {
            SetSyncState(count > 0 ? RoutingCatalogSyncState.Stale : RoutingCatalogSyncState.Synced);
        }
    }

    /// <summary>The one writer: takes changes in bursts, applies each burst, publishes.</summary>
    private async Task PublishLoopAsync(CancellationToken cancellationToken)
    {
        var reader = _changes.Reader;
        var time = _options.TimeProvider;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Coalesce: a burst ends after a quiet spell (no change for Debounce), at most MaxDelay after its oldest
                // change arrived. The loop sleeps until the spell could end and then looks at what came, rather than waking
                // for each change: at 100 changes a second a wake per change cost a thread-pool hop (and the spinning of
                // the worker woken), a timer, and an exception for each quiet spell. The burst's age is counted from its
                // oldest change's arrival, not from when this loop got to it: changes that came while the last batch was
                // applied have waited that long already.
                var burstStart = time.GetTimestamp();
                var lastArrival = burstStart;
                var batch = new List<ObjectChange>();
                while (true)
                {
                    while (reader.TryRead(out var change))
                    {
                        if (batch.Count == 0)
                        {
                            burstStart = lastArrival = change.ArrivedAt;
                        }

                        batch.Add(change);
                        burstStart = Math.Min(burstStart, change.ArrivedAt);
                        lastArrival = Math.Max(lastArrival, change.ArrivedAt);
                    }

                    var now = time.GetTimestamp();
                    var quietFor = _options.Debounce - time.GetElapsedTime(lastArrival, now);
                    var left = _options.MaxDelay - time.GetElapsedTime(burstStart, now);
                    var wait = quietFor < left ? quietFor : left;
                    if (wait <= TimeSpan.Zero)
                    {
                        break;
                    }

                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    var started = time.GetTimestamp();
                    var incremental = Apply(batch);
                    _telemetry.ApplyDuration(time.GetElapsedTime(started), incremental);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Nothing may end this loop: the last good state keeps serving, and the next burst tries again.
                    Log.PublishFailed(_logger, e.GetType().Name, e.Message);
                    ReportRejected($"a publish threw {e.GetType().Name}; version {Current.Version} is serving");
                }
                finally
                {
                    // The loop's locals live in its state machine while it waits: let go of the objects now, or the
                    // first sync's ten thousand pod objects stay in memory until the next change.
                    batch.Clear();
                    batch.TrimExcess();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Copies the cluster's objects as the catalog last read them (pods, Services, DestinationRules, VirtualServices,
    /// ServiceEntries, WorkloadEntries), to compile apart from the catalog: what <c>dynsubset diff --kubernetes</c>
    /// compares with the same objects and an edit applied. Changes nothing in the catalog or the cluster.
    /// </summary>
    /// <returns>The copy.</returns>
    public MeshDocumentSet CopyDocuments()
    {
        lock (_documents)
        {
            return _documents.Copy();
        }
    }

    /// <inheritdoc/>
    /// <remarks>The cluster's objects as the catalog last read them, and with the candidate applied over them; nothing is written to the cluster.</remarks>
    public override bool TryPreview(string candidate, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoutingCatalogPreview? preview, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var live = CopyDocuments();
        return MeshPreview.TryCreate(live.Compile(), live.Compile([new ConfigurationText(MeshPreview.CandidateName, candidate)]), out preview, out problem);
    }

    /// <summary>Applies a batch; returns whether it was applied pod by pod, without a compile.</summary>
    private bool Apply(List<ObjectChange> batch)
    {
        // The set has one writer (this loop); the lock only keeps CopyDocuments from reading it halfway through a batch.
        lock (_documents)
        {
            return ApplyLocked(batch);
        }
    }

    private bool ApplyLocked(List<ObjectChange> batch)
    {
        var rejected = new List<string>();
        var rulesChanged = false;
        if (_compiled is { } compiled && _synced.Task.IsCompleted && batch.TrueForAll(static c => !c.Synced && c.Key.StartsWith("Pod ", StringComparison.Ordinal)))
        {
            // Pods only: each pod's endpoints are made alone and applied to the indexes they touch, not every pod compiled
            // again. A pod that takes an address another endpoint holds (or any doubt) compiles the whole set below.
            if (TryApplyPods(batch, compiled, rejected))
            {
                _telemetry.Compiled(incremental: true);
                Published(batch, rejected);
                return true;
            }
        }
        else
        {
            rulesChanged = SetDocuments(batch, rejected);
        }

        Compile(batch, rulesChanged, rejected);
        return false;
    }

    /// <summary>A pods-only batch: the last version of each pod is set, and its endpoint changes applied where it can be done alone.</summary>
    private bool TryApplyPods(List<ObjectChange> batch, MeshConfiguration compiled, List<string> rejected)
    {
        var last = new Dictionary<string, ObjectChange>(StringComparer.Ordinal);
        foreach (var change in batch)
        {
            last[change.Key] = change;
        }

        var deltas = new List<PodEndpointChange>();
        foreach (var change in last.Values)
        {
            Rejected(change.Key, _documents.SetPod(change.Key, change.Object as PodFacts, compiled, deltas), rejected);
        }

        _telemetry.Applied(batch.Count);
        if (!PodEndpointChange.TryPlan(deltas, service => _resolvers.Contains(service) ? _resolvers[service].Configured : null, _options.Limits.MaxEndpointsPerService, out var plan))
        {
            return false;
        }

        foreach (var (service, changes) in plan)
        {
            _resolvers[service].ApplyChanges(changes); // not Current: an ejection is no change of ours
        }

        return true;
    }

    /// <summary>Sets every object of the batch in the document set; returns whether a rule (anything but a pod) changed.</summary>
    private bool SetDocuments(List<ObjectChange> batch, List<string> rejected)
    {
        var rulesChanged = false;
        foreach (var change in batch)
        {
            if (change.Synced)
            {
                _pendingKinds.Remove(change.Key);
                rulesChanged = true;
                continue;
            }

            rulesChanged |= !change.Key.StartsWith("Pod ", StringComparison.Ordinal);
            if (change.Object is null)
            {
                _documents.Remove(change.Key);
                continue;
            }

            Rejected(change.Key, change.Object is PodFacts pod
                ? _documents.SetPod(change.Key, pod)
                : _documents.Set(change.Key, ((System.Text.Json.Nodes.JsonObject)change.Object).ToJsonString()), rejected);
        }

        _telemetry.Applied(batch.Count(static c => !c.Synced));
        return rulesChanged;
    }

    private void Rejected(string key, IReadOnlyList<ConfigurationDiagnostic> errors, List<string> rejected)
    {
        if (errors.Count == 0)
        {
            return;
        }

        _telemetry.Rejected(key[..key.IndexOf(' ', StringComparison.Ordinal)]);
        foreach (var error in errors)
        {
            Log.ObjectRejected(_logger, key, error.Path, error.Message);
            rejected.Add($"{key}: {error.Code} {error.Path}".TrimEnd());
        }
    }

    /// <summary>Compiles every object, and publishes: one swap when rules changed, else each service's difference.</summary>
    private void Compile(List<ObjectChange> batch, bool rulesChanged, List<string> rejected)
    {
        if (_pendingKinds.Count > 0)
        {
            return; // nothing is published before every kind has synced
        }

        var config = _documents.Compile();
        if (config.HasErrors)
        {
            _compiled = null; // pods are compiled whole until the set compiles again
            var errors = config.Diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
            foreach (var error in errors)
            {
                Log.ObjectRejected(_logger, error.File, error.Path, error.Message);
            }

            ReportRejected($"{errors.Count} error(s) across objects; version {Current.Version} keeps serving", [.. errors.Select(static e => $"{e.File}: {e.Code} {e.Path}".TrimEnd())]);
            return;
        }

        var first = !_synced.Task.IsCompleted;
        var servicesChanged = first || rulesChanged || config.Services.Length != Current.Services.Length ||
            config.Services.Any(s => !_resolvers.Contains(s.Host));
        if (servicesChanged)
        {
            // Rules changed: build every service's next index first, then publish them all in one swap.
            var services = _resolvers.Publish(_resolvers.Build(config), static service => $"DestinationRule {service.Namespace}/{service.RuleName}");
            Publish(services);
        }
        else
        {
            // Pods only: each service's index takes the difference, incrementally.
            foreach (var service in config.Services)
            {
                var resolver = _resolvers[service.Host];
                var changes = Difference(resolver.Configured.Endpoints, service.Endpoints); // not Current: an ejection is no change of ours
                if (changes.Count > 0)
                {
                    resolver.ApplyChanges(changes);
                }
            }
        }

        _compiled = config;
        _telemetry.Compiled(incremental: false);
        Published(batch, rejected);
    }

    /// <summary>After a publish: the delay of each change, the rejected versions, and the sync state.</summary>
    private void Published(List<ObjectChange> batch, List<string> rejected)
    {
        var now = _options.TimeProvider.GetTimestamp();
        foreach (var change in batch)
        {
            _telemetry.Published(_options.TimeProvider.GetElapsedTime(change.ArrivedAt, now));
        }

        if (rejected.Count > 0)
        {
            ReportRejected($"{rejected.Count} object version(s) rejected; their last good versions serve", rejected);
        }

        _synced.TrySetResult();
        if (Volatile.Read(ref _unreachable) > 0)
        {
            SetSyncState(RoutingCatalogSyncState.Stale);
        }
    }

    /// <summary>The changes that turn one endpoint list into another: removals, then additions and changes.</summary>
    private static List<EndpointChange> Difference(System.Collections.Immutable.ImmutableArray<Endpoint> before, System.Collections.Immutable.ImmutableArray<Endpoint> after)
    {
        var old = before.ToDictionary(static e => e.AddressKey);
        var changes = new List<EndpointChange>();
        var kept = new HashSet<EndpointAddress>();
        foreach (var endpoint in after)
        {
            kept.Add(endpoint.AddressKey);
            if (!old.TryGetValue(endpoint.AddressKey, out var previous) || !previous.Equals(endpoint) || previous.Name != endpoint.Name)
            {
                changes.Add(EndpointChange.Upsert(endpoint));
            }
        }

        changes.InsertRange(0, old.Keys.Where(a => !kept.Contains(a)).Select(EndpointChange.Remove));
        return changes;
    }

    /// <summary>Tags a kind's first-sync marker with its namespace, so that each informer is counted.</summary>
    private sealed class SyncTagger(ChannelWriter<ObjectChange> inner, string tag) : ChannelWriter<ObjectChange>
    {
        public override bool TryWrite(ObjectChange item) => inner.TryWrite(item.Synced ? item with { Key = tag } : item);

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => inner.WaitToWriteAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 43, EventName = "KubernetesObjectRejected", Level = LogLevel.Error,
            Message = "Rejected {Object}: {Field}: {Reason}. Its last good version keeps serving.")]
        public static partial void ObjectRejected(ILogger logger, string @object, string field, string reason);

        [LoggerMessage(EventId = 44, EventName = "KubernetesPublishFailed", Level = LogLevel.Error,
            Message = "Publishing the cluster's routing threw {ExceptionType}: {Reason}. The last good state keeps serving.")]
        public static partial void PublishFailed(ILogger logger, string exceptionType, string reason);
    }
}
