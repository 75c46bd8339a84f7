using System.Collections.Concurrent;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Lets one log line per key through per interval and counts the rest, so a failing backend costs a line a second,
/// not a line a request. Lock-free: one dictionary read and one compare-exchange per call.
/// </summary>
internal sealed class LogRateLimiter(TimeProvider time, TimeSpan interval)
{
    private const int MaxKeys = 1024; // keys come from configuration (service names), but bound them anyway
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>Whether to log now; if so, <paramref name="suppressed"/> says how many were held back since the last line.</summary>
    public bool ShouldLog(string key, out long suppressed)
    {
        var window = _windows.TryGetValue(key, out var found) ? found : _windows.Count < MaxKeys ? _windows.GetOrAdd(key, static _ => new Window()) : null;
        if (window is null)
        {
            suppressed = 0;
            return false;
        }

        var now = time.GetTimestamp();
        var opened = Volatile.Read(ref window.OpenedAt);
        if (opened != 0 && time.GetElapsedTime(opened, now) < interval)
        {
            Interlocked.Increment(ref window.Suppressed);
            suppressed = 0;
            return false;
        }

        // One caller wins the new window; the others count as suppressed in it.
        if (Interlocked.CompareExchange(ref window.OpenedAt, now, opened) != opened)
        {
            Interlocked.Increment(ref window.Suppressed);
            suppressed = 0;
            return false;
        }

        suppressed = Interlocked.Exchange(ref window.Suppressed, 0);
        return true;
    }

    private sealed class Window
    {
        public long OpenedAt;
        public long Suppressed;
    }
}
