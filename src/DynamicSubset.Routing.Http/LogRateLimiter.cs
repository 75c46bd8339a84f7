using System.Collections.Concurrent;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Lets <c>perInterval</c> calls per key through per interval and counts the rest, so a failing backend costs a log
/// line a second, not a line a request. Keys are a kind and a name (a service), so asking allocates nothing.
/// Lock-free: one dictionary read and a few interlocked operations per call.
/// </summary>
internal sealed class LogRateLimiter(TimeProvider time, TimeSpan interval, int perInterval = 1)
{
    private const int MaxKeys = 1024; // names come from configuration (service names), but bound them anyway
    private readonly ConcurrentDictionary<(string Kind, string Name), Window> _windows = new();

    /// <summary>Whether to go ahead now; if so, <paramref name="suppressed"/> says how many were held back since the window before.</summary>
    public bool ShouldLog(string kind, string name, out long suppressed)
    {
        var key = (kind, name);
        var window = _windows.TryGetValue(key, out var found) ? found : _windows.Count < MaxKeys ? _windows.GetOrAdd(key, static _ => new Window()) : null;
        suppressed = 0;
        if (window is null)
        {
            return false;
        }

        var now = time.GetTimestamp();
        var opened = Volatile.Read(ref window.OpenedAt);
        if (opened != 0 && time.GetElapsedTime(opened, now) < interval)
        {
            if (Interlocked.Increment(ref window.Used) <= perInterval)
            {
                return true;
            }

            Interlocked.Increment(ref window.Suppressed);
            return false;
        }

        // One caller wins the new window; the others count in it.
        if (Interlocked.CompareExchange(ref window.OpenedAt, now, opened) != opened)
        {
            if (Interlocked.Increment(ref window.Used) <= perInterval)
            {
                return true;
            }

            Interlocked.Increment(ref window.Suppressed);
            return false;
        }

        Volatile.Write(ref window.Used, 1);
        suppressed = Interlocked.Exchange(ref window.Suppressed, 0);
        return true;
    }

    private sealed class Window
    {
        public long OpenedAt;
        public long Used;
        public long Suppressed;
    }
}
