using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace DynamicSubset.Routing.Internal;

/// <summary>
/// A resolver's outlier state: failures in a row per address, and which addresses are ejected until when. It lives
/// beside the snapshots, so an address keeps its state while it carries on across endpoint changes.
/// </summary>
internal sealed class OutlierDetector
{
    private readonly ConcurrentDictionary<EndpointAddress, EndpointHealth> _health = new();

    /// <summary>Gets or sets the ejected addresses; written under the resolver's writer lock only.</summary>
    public ImmutableHashSet<EndpointAddress> Ejected { get; set; } = [];

    /// <summary>Gets or sets the review timer, running while any address is ejected or has a raised multiplier.</summary>
    public ITimer? Timer { get; set; }

    public ICollection<KeyValuePair<EndpointAddress, EndpointHealth>> All => _health;

    public EndpointHealth For(EndpointAddress address) =>
        _health.TryGetValue(address, out var health) ? health : _health.GetOrAdd(address, static _ => new EndpointHealth());

    public bool TryGet(EndpointAddress address, out EndpointHealth health) => _health.TryGetValue(address, out health!);

    public void Forget(EndpointAddress address) => _health.TryRemove(address, out _);
}

/// <summary>One address's failure counts and ejection; counters are updated lock-free on the request path.</summary>
internal sealed class EndpointHealth
{
    public int Consecutive5xx;
    public int ConsecutiveGateway;

    /// <summary>How many times it was ejected (the ejection time's multiplier); under the writer lock.</summary>
    public int Times;

    /// <summary>Until when it is ejected (UTC ticks); under the writer lock.</summary>
    public long EjectedUntil;

    /// <summary>A success ends both runs; written only when a run is open, so healthy traffic shares no written cache line.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref Consecutive5xx) != 0)
        {
            Volatile.Write(ref Consecutive5xx, 0);
        }

        if (Volatile.Read(ref ConsecutiveGateway) != 0)
        {
            Volatile.Write(ref ConsecutiveGateway, 0);
        }
    }
}
