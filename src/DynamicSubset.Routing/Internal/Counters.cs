namespace DynamicSubset.Routing.Internal;

/// <summary>
/// An endpoint's in-flight request count, for LEAST_REQUEST. Live state: it outlives snapshots, and a new
/// snapshot takes the same counter over for the same address so counts survive endpoint churn.
/// </summary>
internal sealed class InFlightCounter
{
    private int _count;

    /// <summary>Gets the current count. A stale read only makes one pick slightly less even.</summary>
    public int Value => Volatile.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);

    public void Decrement() => Interlocked.Decrement(ref _count);
}

/// <summary>
/// A subset's round-robin position. Live state, carried from one snapshot to the next for the subset with
/// the same pairs, so a reload does not restart every rotation at the first endpoint.
/// </summary>
internal sealed class RotationCounter
{
    private int _next = -1;

    /// <summary>Returns the next position; wraps around at 2^32, which only shifts the rotation once.</summary>
    public uint Next() => unchecked((uint)Interlocked.Increment(ref _next));
}

/// <summary>
/// One endpoint of one snapshot, with the live counter it shares with its predecessors. A struct, so that a
/// subset's members sit in one array: a least-request pick reads two entries of it and two counters, with no
/// object per member in between.
/// </summary>
internal readonly struct EndpointSlot(Endpoint endpoint, InFlightCounter inFlight)
{
    public Endpoint Endpoint { get; } = endpoint;

    public InFlightCounter InFlight { get; } = inFlight;

    public EndpointAddress Address => Endpoint.AddressKey;

    /// <summary>The endpoints of <paramref name="slots"/>, made once and cached in <paramref name="cache"/> (a benign race: any copy is equal).</summary>
    public static System.Collections.Immutable.ImmutableArray<Endpoint> Endpoints(
        ref System.Collections.Immutable.ImmutableArray<Endpoint> cache, SlotList slots)
    {
        if (cache.IsDefault)
        {
            var endpoints = new Endpoint[slots.Length];
            for (var i = 0; i < endpoints.Length; i++)
            {
                endpoints[i] = slots[i].Endpoint;
            }

            cache = System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(endpoints);
        }

        return cache;
    }
}
