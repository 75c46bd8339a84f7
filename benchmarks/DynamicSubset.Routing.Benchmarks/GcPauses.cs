using System.Diagnostics;
using System.Diagnostics.Tracing;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// The runtime's own record of each collection's pause (the span from suspending the managed threads to resuming
/// them), with when it began, on the <see cref="Stopwatch"/> clock: to tell how much of a batch's time on the
/// publishing thread was a collection's pause rather than its own work.
/// </summary>
internal sealed class GcPauses : EventListener
{
    private const int Start = 1; // GCStart_V2: the generation collected
    private const int SuspendBegin = 9; // GCSuspendEEBegin_V1
    private const int RestartEnd = 3; // GCRestartEEEnd_V1
    private const int HeapStats = 4; // GCHeapStats_V2: sizes after the collection, and what it promoted out of each generation
    private readonly List<(long Start, long End, int Depth, long Promoted)> _pauses = [];
    private long _suspended = -1;
    private int _depth = -1;
    private long _promoted = -1;

    /// <summary>The pauses that overlap [start, end) on the Stopwatch clock, in milliseconds.</summary>
    public double PausedWithin(long start, long end)
    {
        lock (_pauses)
        {
            double ms = 0;
            foreach (var (s, e, _, _) in _pauses)
            {
                var overlap = Math.Min(e, end) - Math.Max(s, start);
                if (overlap > 0)
                {
                    ms += overlap * 1000.0 / Stopwatch.Frequency;
                }
            }

            return ms;
        }
    }

    /// <summary>
    /// Each pause that began within [start, end), in milliseconds, with the generation it collected (-1: not known) and
    /// the bytes it promoted out of generations 0 and 1 (copied to an older one, unless pinned or in place).
    /// </summary>
    public (double Milliseconds, int Generation, long Promoted)[] PausesWithin(long start, long end)
    {
        lock (_pauses)
        {
            return [.. _pauses.Where(p => p.Start >= start && p.Start < end).Select(static p => ((p.End - p.Start) * 1000.0 / Stopwatch.Frequency, p.Depth, p.Promoted))];
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)0x1); // GC
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // The event's own time stamp is the time it was raised; Stopwatch ticks and DateTime ticks differ, so both ends
        // are read on the Stopwatch clock from the event's UTC time.
        var at = Stopwatch.GetTimestamp() - (long)((DateTime.UtcNow - eventData.TimeStamp).TotalSeconds * Stopwatch.Frequency);
        switch (eventData.EventId)
        {
            case SuspendBegin:
                _suspended = at;
                _depth = -1;
                _promoted = -1;
                break;
            case Start when eventData.Payload is [_, var depth, ..]:
                _depth = Convert.ToInt32(depth, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case HeapStats when eventData.Payload is [_, var fromGen0, _, var fromGen1, ..]:
                _promoted = Convert.ToInt64(fromGen0, System.Globalization.CultureInfo.InvariantCulture) + Convert.ToInt64(fromGen1, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case RestartEnd when _suspended >= 0:
                lock (_pauses)
                {
                    _pauses.Add((_suspended, at, _depth, _promoted));
                }

                _suspended = -1;
                break;
        }
    }
}
