using System.Diagnostics.Metrics;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>The cluster source's instruments, on the library's one meter (<c>DynamicSubset.Routing</c>).</summary>
internal sealed class KubernetesTelemetry
{
    public const string MeterName = "DynamicSubset.Routing"; // RoutingTelemetryNames.Meter, which this package does not reference
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _relists;
    private readonly Counter<long> _events;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _delay;
    private readonly Counter<long> _compiles;
    private readonly Histogram<double> _applyDuration;

    public KubernetesTelemetry(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _restarts = meter.CreateCounter<long>("dynamic_subset.kubernetes.watch.restarts", "{restart}", "Watches started again: the server ended the stream, or the API server could not be reached.");
        _relists = meter.CreateCounter<long>("dynamic_subset.kubernetes.relists", "{relist}", "Relists after the watch history was compacted (410 Gone).");
        _events = meter.CreateCounter<long>("dynamic_subset.kubernetes.events", "{event}", "Object changes applied.");
        _rejected = meter.CreateCounter<long>("dynamic_subset.kubernetes.rejected", "{object}", "Object versions rejected as invalid; the last good version serves.");
        _compiles = meter.CreateCounter<long>("dynamic_subset.kubernetes.compiles", "{batch}",
            "Batches of object changes, by how they were applied: compiled (every object compiled again) or incremental (pods only, each pod's endpoints applied alone).");
        _applyDuration = meter.CreateHistogram<double>("dynamic_subset.kubernetes.apply.duration", "s",
            "How long applying one batch of object changes took on the publishing thread (reading, compiling or applying, publishing).");
        _delay = meter.CreateHistogram<double>("dynamic_subset.kubernetes.publish.delay", "s", "From an object change's arrival to its publish.");
    }

    public void WatchRestart(string kind) => _restarts.Add(1, new KeyValuePair<string, object?>("dynamic_subset.kubernetes.kind", kind));

    public void Relist(string kind) => _relists.Add(1, new KeyValuePair<string, object?>("dynamic_subset.kubernetes.kind", kind));

    public void Applied(int count) => _events.Add(count);

    public void Rejected(string kind) => _rejected.Add(1, new KeyValuePair<string, object?>("dynamic_subset.kubernetes.kind", kind));

    public void Published(TimeSpan delay) => _delay.Record(delay.TotalSeconds);

    public void ApplyDuration(TimeSpan duration, bool incremental) =>
        _applyDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("dynamic_subset.kubernetes.mode", incremental ? "incremental" : "compiled"));

    public void Compiled(bool incremental) => _compiles.Add(1, new KeyValuePair<string, object?>("dynamic_subset.kubernetes.mode", incremental ? "incremental" : "compiled"));
}
