namespace DynamicSubset.Routing.Internal;

/// <summary>
/// The subsets of one selector, in an open-addressing hash table keyed by their values (linear probing,
/// load at most one half). Immutable once published. The slots live in chunks of 1,024, so that an update
/// copies the chunk directory and the chunks it writes to, not the whole table: at 100k endpoints the
/// <c>%ip%</c> table is 2 MB, and copying it on every endpoint change was half of an update's cost.
/// </summary>
internal sealed class SelectorTable
{
    private const int ChunkShift = 10;
    private const int ChunkMask = (1 << ChunkShift) - 1;

    private readonly Subset?[][] _chunks;
    private readonly int _mask; // capacity - 1

    private SelectorTable(SubsetSelector selector, int ordinal, Subset?[][] chunks, int capacity, int count, int[]? mappingIndexes, ulong keyMask, ulong keysSubsetMask)
    {
        Selector = selector;
        Ordinal = ordinal;
        Keys = [.. selector.Keys];
        _chunks = chunks;
        _mask = capacity - 1;
        Count = count;
        MappingIndexes = mappingIndexes;
        KeyMask = keyMask;
        KeysSubsetMask = keysSubsetMask;
    }

    public SubsetSelector Selector { get; }

    /// <summary>Gets the selector's position in <c>subsetSelectors</c>.</summary>
    public int Ordinal { get; }

    public string[] Keys { get; }

    public int Count { get; }

    /// <summary>Gets, per key, the index of the header mapping that feeds it; <see langword="null"/> when some key has no mapping, so no request can name this selector.</summary>
    public int[]? MappingIndexes { get; }

    /// <summary>Gets the selector's key set as a bit mask over header mappings (0 when unreachable).</summary>
    public ulong KeyMask { get; }

    /// <summary>Gets <c>fallbackKeysSubset</c> as a bit mask over header mappings.</summary>
    public ulong KeysSubsetMask { get; }

    /// <summary>Creates the table of <paramref name="subsets"/>, whose values are distinct.</summary>
    public static SelectorTable Create(SubsetSelector selector, int ordinal, ReadOnlySpan<Subset> subsets, RoutingPolicy policy)
    {
        var slots = new Slots(CapacityFor(subsets.Length));
        foreach (var subset in subsets)
        {
            slots.Insert(subset);
        }

        return Create(selector, ordinal, slots, subsets.Length, policy);
    }

    /// <summary>Creates a table over slots already laid out as inserting the subsets in order would lay them out, with capacity <see cref="CapacityFor"/>(<paramref name="count"/>).</summary>
    public static SelectorTable Create(SubsetSelector selector, int ordinal, Slots slots, int count, RoutingPolicy policy)
    {
        var capacity = slots.Capacity;
        var chunks = slots.Chunks;
        var indexes = new int[selector.Keys.Length];
        ulong mask = 0;
        for (var i = 0; i < indexes.Length; i++)
        {
            indexes[i] = MappingIndexOf(policy, selector.Keys[i]);
            if (indexes[i] < 0)
            {
                return new SelectorTable(selector, ordinal, chunks, capacity, count, null, 0, 0);
            }

            mask |= 1UL << indexes[i];
        }

        ulong subsetMask = 0;
        foreach (var key in selector.FallbackKeysSubset)
        {
            subsetMask |= 1UL << MappingIndexOf(policy, key);
        }

        return new SelectorTable(selector, ordinal, chunks, capacity, count, indexes, mask, subsetMask);
    }

    /// <summary>Returns a copy with <paramref name="removed"/> taken out and <paramref name="added"/> put in (replacing equal values).</summary>
    public SelectorTable With(IReadOnlyCollection<Subset> removed, IReadOnlyCollection<Subset> added)
    {
        var count = Count;
        Slots slots;
        if (CapacityFor(count + added.Count) > _mask + 1)
        {
            // Grow: re-insert everything that stays into a larger table.
            slots = new Slots(CapacityFor(count + added.Count));
            foreach (var subset in Subsets())
            {
                slots.Insert(subset);
            }
        }
        else
        {
            slots = new Slots(_chunks, _mask + 1); // shares every chunk until it writes to one
        }

        foreach (var subset in removed)
        {
            if (slots.Remove(subset))
            {
                count--;
            }
        }

        foreach (var subset in added)
        {
            if (slots.Insert(subset))
            {
                count++;
            }
        }

        return new SelectorTable(Selector, Ordinal, slots.Chunks, slots.Capacity, count, MappingIndexes, KeyMask, KeysSubsetMask);
    }

    /// <summary>Finds the subset whose values equal the request's; the hot path.</summary>
    public Subset? Find(ReadOnlySpan<CriterionValue> criteria)
    {
        var indexes = MappingIndexes!;
        var hash = SubsetHash.Seed;
        foreach (var index in indexes)
        {
            hash = SubsetHash.Combine(hash, criteria[index].Span);
        }

        var chunks = _chunks;
        var mask = _mask;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var subset = chunks[i >> ChunkShift][i & ChunkMask];
            if (subset is null)
            {
                return null;
            }

            if (subset.Hash == hash && ValuesEqual(subset.Values, indexes, criteria))
            {
                return subset;
            }
        }
    }

    /// <summary>Finds the subset with exactly these values (in key order); for builds and inspection.</summary>
    public Subset? Find(ReadOnlySpan<string> values)
    {
        var hash = SubsetHash.Of(values);
        for (var i = hash & _mask; ; i = (i + 1) & _mask)
        {
            var subset = _chunks[i >> ChunkShift][i & ChunkMask];
            if (subset is null || (subset.Hash == hash && subset.Values.SequenceEqual(values)))
            {
                return subset;
            }
        }
    }

    public IEnumerable<Subset> Subsets()
    {
        foreach (var chunk in _chunks)
        {
            foreach (var subset in chunk)
            {
                if (subset is not null)
                {
                    yield return subset;
                }
            }
        }
    }

    private static bool ValuesEqual(ReadOnlySpan<string> values, int[] indexes, ReadOnlySpan<CriterionValue> criteria)
    {
        for (var k = 0; k < values.Length; k++)
        {
            if (!values[k].AsSpan().SequenceEqual(criteria[indexes[k]].Span))
            {
                return false;
            }
        }

        return true;
    }

    private static int MappingIndexOf(RoutingPolicy policy, string key)
    {
        var mappings = policy.HeaderMappings;
        for (var i = 0; i < mappings.Length; i++)
        {
            if (string.Equals(mappings[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The slot count for <paramref name="count"/> subsets: a power of two, at most half full.</summary>
    public static int CapacityFor(int count) => (int)Math.Max(4, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, count * 2)));

    /// <summary>
    /// The slots of a table being built or updated: chunks are copied on first write when they are shared with a
    /// published table, and never after.
    /// </summary>
    internal sealed class Slots
    {
        private readonly bool[]? _owned; // null when every chunk is new

        /// <summary>Initializes a new instance of the <see cref="Slots"/> class: empty, with new chunks.</summary>
        public Slots(int capacity)
        {
            Capacity = capacity;
            var chunkLength = Math.Min(capacity, ChunkMask + 1);
            Chunks = new Subset?[capacity / chunkLength][];
            for (var c = 0; c < Chunks.Length; c++)
            {
                Chunks[c] = new Subset?[chunkLength];
            }
        }

        /// <summary>Initializes a new instance of the <see cref="Slots"/> class over a published table's chunks, without copying them yet.</summary>
        public Slots(Subset?[][] shared, int capacity)
        {
            Capacity = capacity;
            Chunks = (Subset?[][])shared.Clone();
            _owned = new bool[Chunks.Length];
        }

        public int Capacity { get; }

        public Subset?[][] Chunks { get; }

        private int Mask => Capacity - 1;

        public Subset? this[int index]
        {
            get => Chunks[index >> ChunkShift][index & ChunkMask];
            set
            {
                var c = index >> ChunkShift;
                if (_owned is not null && !_owned[c])
                {
                    Chunks[c] = (Subset?[])Chunks[c].Clone();
                    _owned[c] = true;
                }

                Chunks[c][index & ChunkMask] = value;
            }
        }

        /// <summary>Puts <paramref name="subset"/> in, replacing one with equal values; returns whether it was new.</summary>
        public bool Insert(Subset subset)
        {
            for (var i = subset.Hash & Mask; ; i = (i + 1) & Mask)
            {
                var existing = this[i];
                if (existing is null || (existing.Hash == subset.Hash && existing.Values.SequenceEqual(subset.Values)))
                {
                    this[i] = subset;
                    return existing is null;
                }
            }
        }

        /// <summary>Takes out the subset with <paramref name="subset"/>'s values, by backward-shift deletion so that probing never needs tombstones.</summary>
        public bool Remove(Subset subset)
        {
            var hole = subset.Hash & Mask;
            while (true)
            {
                var existing = this[hole];
                if (existing is null)
                {
                    return false;
                }

                if (existing.Hash == subset.Hash && existing.Values.SequenceEqual(subset.Values))
                {
                    break;
                }

                hole = (hole + 1) & Mask;
            }

            this[hole] = null;
            for (var j = (hole + 1) & Mask; this[j] is { } next; j = (j + 1) & Mask)
            {
                var home = next.Hash & Mask;

                // Leave the entry where it is when its home lies cyclically in (hole, j].
                var stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
                if (!stays)
                {
                    this[hole] = next;
                    this[j] = null;
                    hole = j;
                }
            }

            return true;
        }
    }
}
