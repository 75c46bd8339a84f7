using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using DynamicSubset.Routing.Http;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// The last minute of resolutions per service and outcome, one count per second, read from the app's own
/// <c>dynamic_subset.resolutions</c> instrument through a <see cref="MeterListener"/>. It exists only while the admin
/// view is mapped, so an app without it pays nothing.
/// </summary>
internal sealed class ResolutionHistory : IDisposable
{
    public const int Seconds = 60;
    public const string NoService = "(no route)";
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Service, string Outcome), Series> _series = new();
    private readonly TimeProvider _time;

    public ResolutionHistory(IMeterFactory? meterFactory, TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this app's meter: with IMeterFactory, each service provider's meter is scoped to its factory.
            if (instrument.Name == RoutingTelemetryNames.Resolutions && instrument.Meter.Name == RoutingTelemetryNames.Meter &&
                (meterFactory is null || ReferenceEquals(instrument.Meter.Scope, meterFactory)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Gets each (service, outcome)'s counts over the last minute, oldest second first.</summary>
    public IEnumerable<(string Service, string Outcome, long[] PerSecond)> Snapshot()
    {
        var now = Second();
        foreach (var ((service, outcome), series) in _series)
        {
            yield return (service, outcome, series.Read(now));
        }
    }

    public void Dispose() => _listener.Dispose();

    private long Second() => _time.GetUtcNow().ToUnixTimeSeconds();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? service = null, outcome = null, policy = null;
        foreach (var (key, tag) in tags)
        {
            if (key == RoutingTelemetryNames.ServiceTag)
            {
                service = tag as string;
            }
            else if (key == RoutingTelemetryNames.OutcomeTag)
            {
                outcome = tag as string;
            }
            else if (key == RoutingTelemetryNames.FallbackPolicyTag)
            {
                policy = tag as string;
            }
        }

        if (outcome is not null)
        {
            // Each fallback apart: "fallback ANY_ENDPOINT" and "fallback DEFAULT_SUBSET" tell different stories.
            var label = outcome == "fallback" && policy is not null ? $"fallback {policy}" : outcome;
            _series.GetOrAdd((service ?? NoService, label), static _ => new Series()).Add(Second(), value);
        }
    }

    /// <summary>A ring of per-second counts; a slot is reused when its second comes round again.</summary>
    private sealed class Series
    {
        private readonly long[] _counts = new long[Seconds];
        private readonly long[] _stamps = new long[Seconds];
        private readonly Lock _lock = new(); // only the admin view's own listener takes it, never the resolve path

        public void Add(long second, long value)
        {
            var slot = (int)(second % Seconds);
            lock (_lock)
            {
                if (_stamps[slot] != second)
                {
                    _stamps[slot] = second;
                    _counts[slot] = 0;
                }

                _counts[slot] += value;
            }
        }

        public long[] Read(long now)
        {
            var result = new long[Seconds];
            lock (_lock)
            {
                for (var i = 0; i < Seconds; i++)
                {
                    var second = now - (Seconds - 1) + i;
                    var slot = (int)(second % Seconds);
                    result[i] = _stamps[slot] == second ? _counts[slot] : 0;
                }
            }

            return result;
        }
    }
}
