using System.Collections.Immutable;
using System.Runtime.InteropServices;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// A set of endpoints of one snapshot: a dynamic subset (the endpoints that share one value for every key of
/// a selector), or the default subset. Immutable.
/// </summary>
public sealed class Subset
{
    // Golden-ratio stride for weighted round robin: spreads each endpoint's share over the cycle.
    private const uint GoldenStride = 2654435769;

    // The largest n for which n * (n - 1) fits in an int.
    private const int MaxSingleDrawCandidates = 46340;

    // A build puts the values and the members of all subsets of one selector in two shared arrays, so a
    // single-endpoint subset (every %ip% subset) costs one object, not three.
    private readonly string[] _keys;
    private readonly ArraySegment<string> _values;
    private readonly SlotList _members;
    private readonly SlotList _routable;
    private readonly WeightTable? _weights; // null when every routable endpoint has the same weight
    private Views? _views;
    private HashedTable? _hashTable; // made on the first hashed pick: most subsets never see one
    private LocalityTable? _localityTable; // made on the first pick by a caller with a locality, under localityLbSetting

    /// <param name="keys">The selector's keys, sorted.</param>
    /// <param name="values">The values, in key order.</param>
    /// <param name="hash">The hash of <paramref name="values"/>.</param>
    /// <param name="members">The members, in address order.</param>
    /// <param name="rotation">The round-robin position, under ROUND_ROBIN.</param>
    /// <param name="isSelectorSubset">Whether a selector formed the subset.</param>
    /// <param name="allRoutableAtOneWeight">
    /// The caller knows every member is healthy and all weights are equal: skips two scans that load every
    /// member's <see cref="Endpoint"/>, which matters for the any-endpoint set of a large service.
    /// </param>
    internal Subset(
        string[] keys,
        ArraySegment<string> values,
        int hash,
        ArraySegment<EndpointSlot> members,
        RotationCounter? rotation,
        bool isSelectorSubset = true,
        bool allRoutableAtOneWeight = false)
        : this(keys, values, hash, SlotList.Of(members), rotation, isSelectorSubset, allRoutableAtOneWeight)
    {
    }

    /// <summary>A subset over a list of members, whose routable part is found by a scan (unless the caller knows it).</summary>
    internal Subset(string[] keys, ArraySegment<string> values, int hash, SlotList members, RotationCounter? rotation, bool isSelectorSubset, bool allRoutableAtOneWeight)
        : this(keys, values, hash, members, allRoutableAtOneWeight ? members : SlotList.Healthy(members), rotation, isSelectorSubset, atOneWeight: allRoutableAtOneWeight)
    {
    }

    /// <param name="keys">The selector's keys, sorted.</param>
    /// <param name="values">The values, in key order.</param>
    /// <param name="hash">The hash of <paramref name="values"/>.</param>
    /// <param name="members">The members, in address order.</param>
    /// <param name="routable">The routable members, in address order: <paramref name="members"/> itself when all are.</param>
    /// <param name="rotation">The round-robin position, under ROUND_ROBIN.</param>
    /// <param name="isSelectorSubset">Whether a selector formed the subset.</param>
    /// <param name="atOneWeight">The caller knows every routable member has the same weight: skips the weight scan.</param>
    internal Subset(
        string[] keys,
        ArraySegment<string> values,
        int hash,
        SlotList members,
        SlotList routable,
        RotationCounter? rotation,
        bool isSelectorSubset,
        bool atOneWeight)
    {
        IsSelectorSubset = isSelectorSubset;
        _keys = keys;
        _values = values;
        Hash = hash;
        _members = members;
        Rotation = rotation;

        // The routable members are a part of the members, so as many means the same ones: share the list.
        _routable = routable.Length == members.Length ? members : routable;
        _weights = atOneWeight ? null : WeightTable.For(_routable);
    }

    /// <summary>Gets the key=value pairs that name this subset, sorted by key.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Pairs
    {
        get
        {
            var views = _views ??= new Views();
            if (views.Pairs.IsDefault)
            {
                var pairs = new KeyValuePair<string, string>[_keys.Length];
                for (var i = 0; i < pairs.Length; i++)
                {
                    pairs[i] = new(_keys[i], _values[i]);
                }

                views.Pairs = ImmutableCollectionsMarshal.AsImmutableArray(pairs);
            }

            return views.Pairs;
        }
    }

    /// <summary>Gets every endpoint of the subset, routable or not, ordered by address.</summary>
    public ImmutableArray<Endpoint> Endpoints => EndpointSlot.Endpoints(ref (_views ??= new Views()).Endpoints, Members);

    /// <summary>Gets the endpoints that may receive requests (the healthy ones), ordered by address.</summary>
    public ImmutableArray<Endpoint> RoutableEndpoints => EndpointSlot.Endpoints(ref (_views ??= new Views()).Routable, Routable);

    /// <summary>Gets a value indicating whether the subset has a routable endpoint; a subset without one never matches.</summary>
    public bool IsRoutable => _routable.Length > 0;

    internal int Hash { get; }

    /// <summary>Gets a value indicating whether a selector formed this subset (rather than being the default or any-endpoint set).</summary>
    internal bool IsSelectorSubset { get; }

    internal string[] Keys => _keys;

    internal ReadOnlySpan<string> Values => _values;

    internal ArraySegment<string> ValueSegment => _values;

    internal SlotList Members => _members;

    internal SlotList Routable => _routable;

    internal RotationCounter? Rotation { get; }

    /// <summary>Gets a value indicating whether every member is routable and all have the same weight.</summary>
    internal bool IsAllRoutableAtOneWeight => _routable.Length == _members.Length && _weights is null;

    /// <summary>Gets a value indicating whether every routable member has the same weight.</summary>
    internal bool IsAtOneWeight => _weights is null;

    /// <summary>Returns the pairs, for example <c>stage=dev, version=v1</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var parts = new string[_keys.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = $"{_keys[i]}={_values[i]}";
        }

        return string.Join(", ", parts);
    }

    /// <summary>Picks one routable endpoint: its index in <see cref="Routable"/>, or -1 when there is none.</summary>
    internal int Pick(LoadBalancingPolicy policy, Random? random)
    {
        var routable = Routable;
        if (routable.Length <= 1)
        {
            return routable.Length - 1;
        }

        switch (policy)
        {
            case LoadBalancingPolicy.RoundRobin:
                var tick = Rotation!.Next();
                return _weights is null
                    ? (int)(tick % (uint)routable.Length)
                    : _weights.IndexOf(_weights.Spread(tick));

            case LoadBalancingPolicy.Random:
                return RandomIndex(random);

            default:
                // Power of two choices between two (weighted) random candidates: the one with fewer requests
                // in flight per unit of weight. A tie keeps the first, so an idle set splits by weight.
                int a, b;
                var n = routable.Length;
                if (_weights is not null)
                {
                    a = RandomIndex(random);
                    b = RandomIndex(random);
                }
                else if (random is null)
                {
                    // Two distinct candidates from one draw of the per-thread generator, with no division.
                    (a, b) = FastRandom.NextPair(n);
                }
                else if (n <= MaxSingleDrawCandidates)
                {
                    // Two distinct candidates from one draw: a uniform, then b uniform among the others.
                    var draw = random.Next(n * (n - 1));
                    a = draw % n;
                    b = (a + 1 + (draw / n)) % n;
                }
                else
                {
                    a = random.Next(n);
                    b = (a + 1 + random.Next(n - 1)) % n;
                }

                // An idle first candidate cannot be beaten (counts are never negative, and a tie keeps the first), so
                // the second counter, a cache miss in a large set, is only read when the first is busy.
                var inFlightFirst = routable[a].InFlight.Value;
                if (inFlightFirst == 0)
                {
                    return a;
                }

                if (_weights is null)
                {
                    // Equal weights: compare counts alone, without touching either Endpoint (another miss each).
                    return routable[b].InFlight.Value < inFlightFirst ? b : a;
                }

                // Counts are below 2^31 and weights at most 2^32 - 1, so neither product overflows a long.
                var loadFirst = inFlightFirst * routable[b].Endpoint.Weight;
                var loadSecond = routable[b].InFlight.Value * routable[a].Endpoint.Weight;
                return loadSecond < loadFirst ? b : a;
        }
    }

    /// <summary>
    /// Picks one routable endpoint for a caller with a locality, under <c>localityLbSetting</c>: its index in
    /// <see cref="Routable"/>, or -1 when there is none.
    /// </summary>
    internal int PickLocal(LoadBalancingPolicy policy, Random? random, LocalityLoadBalancing rule, bool failover, in CallerContext caller)
    {
        if (_routable.Length <= 1)
        {
            return _routable.Length - 1;
        }

        // A benign race, as for the hash table: two threads may both build it; either is equal.
        var table = Volatile.Read(ref _localityTable);
        if (table is null || !table.IsFor(rule, failover, caller.Locality!, caller.Labels))
        {
            table = LocalityTable.Build(this, rule, failover, caller.Locality!, caller.Labels);
            Volatile.Write(ref _localityTable, table);
        }

        return table.Pick(this, policy, random);
    }

    /// <summary>Gets the locality levels of the last caller that picked here, best first, or <see langword="null"/>: the order a retry goes in.</summary>
    internal int[][]? LocalityLevels => Volatile.Read(ref _localityTable) is { Levels.Length: > 0 } table ? table.Levels : null;

    /// <summary>Picks the routable endpoint a consistent hash maps to: its index in <see cref="Routable"/>, or -1 when there is none.</summary>
    internal int PickByHash(ulong hash, ConsistentHashPolicy policy)
    {
        var routable = Routable;
        if (routable.Length <= 1)
        {
            return routable.Length - 1;
        }

        // A benign race: two threads may both build the table; either copy is equal, and one is kept.
        var cached = Volatile.Read(ref _hashTable);
        if (cached is null || !ReferenceEquals(cached.Policy, policy))
        {
            cached = new HashedTable(policy, ConsistentHashTable.Build(routable, policy));
            Volatile.Write(ref _hashTable, cached);
        }

        return cached.Table.Lookup(hash);
    }

    private int RandomIndex(Random? random) =>
        _weights is null ? NextInt(random, _routable.Length) : _weights.IndexOf(NextLong(random, _weights.Total));

    /// <summary>An injected <see cref="Random"/> makes picks reproducible in tests; otherwise the per-thread generator.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int NextInt(Random? random, int maxExclusive) =>
        random is null ? FastRandom.Next(maxExclusive) : random.Next(maxExclusive);

    private static long NextLong(Random? random, long maxExclusive) =>
        random is null ? FastRandom.NextInt64(maxExclusive) : random.NextInt64(maxExclusive);

    /// <summary>
    /// The cumulative weights of a subset whose routable endpoints differ in weight. Sums are 64-bit: weights are at
    /// most 2^32 - 1 (Istio's uint32) and a subset holds fewer than 2^31 endpoints, so no sum can overflow.
    /// </summary>
    private sealed class WeightTable
    {
        private readonly long[] _cumulative;

        private WeightTable(long[] cumulative, ulong stride)
        {
            _cumulative = cumulative;
            Stride = stride;
        }

        public long Total => _cumulative[^1];

        public ulong Stride { get; }

        public static WeightTable? For(SlotList routable)
        {
            var uniform = true;
            var first = routable.IsEmpty ? 0 : routable[0].Endpoint.Weight;
            foreach (ref readonly var slot in routable)
            {
                uniform &= slot.Endpoint.Weight == first;
            }

            if (uniform)
            {
                return null;
            }

            var cumulative = new long[routable.Length];
            long sum = 0;
            for (var i = 0; i < routable.Length; i++)
            {
                sum += routable[i].Endpoint.Weight;
                cumulative[i] = sum;
            }

            var stride = GoldenStride % (ulong)sum;
            while (Gcd(stride, (ulong)sum) != 1)
            {
                stride++;
            }

            return new WeightTable(cumulative, stride);
        }

        /// <summary>The round-robin position of a tick: a stride coprime with the total visits every unit once per cycle.</summary>
        public long Spread(uint tick) => (long)((UInt128)tick * Stride % (ulong)Total);

        /// <summary>The index of the endpoint whose weight range holds <paramref name="position"/> (0 &lt;= position &lt; total).</summary>
        public int IndexOf(long position)
        {
            var cumulative = _cumulative;
            int lo = 0, hi = cumulative.Length - 1;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (cumulative[mid] > position)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return lo;
        }

        private static ulong Gcd(ulong a, ulong b)
        {
            while (b != 0)
            {
                (a, b) = (b, a % b);
            }

            return a;
        }
    }

    private sealed record HashedTable(ConsistentHashPolicy Policy, ConsistentHashTable Table);

    /// <summary>The public views of a subset, made on first use: most subsets are never inspected.</summary>
    private sealed class Views
    {
        public ImmutableArray<KeyValuePair<string, string>> Pairs;
        public ImmutableArray<Endpoint> Endpoints;
        public ImmutableArray<Endpoint> Routable;
    }
}
