namespace DynamicSubset.Routing.Internal;

/// <summary>
/// The subsets of one selector, in an open-addressing hash table keyed by their values (linear probing,
/// load at most one half). Immutable once published: updates copy the slot array and patch the copy.
/// </summary>
internal sealed class SelectorTable
{
    private readonly Subset?[] _slots;

    private SelectorTable(SubsetSelector selector, int ordinal, Subset?[] slots, int count, int[]? mappingIndexes, ulong keyMask, ulong keysSubsetMask)
    {
        Selector = selector;
        Ordinal = ordinal;
        Keys = [.. selector.Keys];
        _slots = slots;
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
        var slots = new Subset?[CapacityFor(subsets.Length)];
        foreach (var subset in subsets)
        {
            Insert(slots, subset);
        }

        return Create(selector, ordinal, slots, subsets.Length, policy);
    }

    /// <summary>Creates a table over slots already laid out as <see cref="Insert"/> lays them out, with capacity <see cref="CapacityFor"/>(<paramref name="count"/>).</summary>
    public static SelectorTable Create(SubsetSelector selector, int ordinal, Subset?[] slots, int count, RoutingPolicy policy)
    {
        var indexes = new int[selector.Keys.Length];
        ulong mask = 0;
        for (var i = 0; i < indexes.Length; i++)
        {
            indexes[i] = MappingIndexOf(policy, selector.Keys[i]);
            if (indexes[i] < 0)
            {
                return new SelectorTable(selector, ordinal, slots, count, null, 0, 0);
            }

            mask |= 1UL << indexes[i];
        }

        ulong subsetMask = 0;
        foreach (var key in selector.FallbackKeysSubset)
        {
            subsetMask |= 1UL << MappingIndexOf(policy, key);
        }

        return new SelectorTable(selector, ordinal, slots, count, indexes, mask, subsetMask);
    }

    /// <summary>Returns a copy with <paramref name="removed"/> taken out and <paramref name="added"/> put in (replacing equal values).</summary>
    public SelectorTable With(IReadOnlyCollection<Subset> removed, IReadOnlyCollection<Subset> added)
    {
        var count = Count;
        Subset?[] slots;
        if (CapacityFor(count + added.Count) > _slots.Length)
        {
            // Grow: re-insert everything that stays into a larger table.
            slots = new Subset?[CapacityFor(count + added.Count)];
            foreach (var subset in _slots)
            {
                if (subset is not null)
                {
                    Insert(slots, subset);
                }
            }
        }
        else
        {
            slots = (Subset?[])_slots.Clone();
        }

        foreach (var subset in removed)
        {
            var index = IndexOf(slots, subset.Hash, subset.Values);
            if (index >= 0)
            {
                RemoveAt(slots, index);
                count--;
            }
        }

        foreach (var subset in added)
        {
            if (Insert(slots, subset))
            {
                count++;
            }
        }

        return new SelectorTable(Selector, Ordinal, slots, count, MappingIndexes, KeyMask, KeysSubsetMask);
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

        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var subset = slots[i];
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
        var index = IndexOf(_slots, SubsetHash.Of(values), values);
        return index < 0 ? null : _slots[index];
    }

    public IEnumerable<Subset> Subsets()
    {
        foreach (var subset in _slots)
        {
            if (subset is not null)
            {
                yield return subset;
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

    private static int IndexOf(Subset?[] slots, int hash, ReadOnlySpan<string> values)
    {
        var mask = slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var subset = slots[i];
            if (subset is null)
            {
                return -1;
            }

            if (subset.Hash == hash && subset.Values.SequenceEqual(values))
            {
                return i;
            }
        }
    }

    /// <summary>Puts <paramref name="subset"/> in, replacing one with equal values; returns whether it was new.</summary>
    private static bool Insert(Subset?[] slots, Subset subset)
    {
        var mask = slots.Length - 1;
        for (var i = subset.Hash & mask; ; i = (i + 1) & mask)
        {
            var existing = slots[i];
            if (existing is null)
            {
                slots[i] = subset;
                return true;
            }

            if (existing.Hash == subset.Hash && existing.Values.SequenceEqual(subset.Values))
            {
                slots[i] = subset;
                return false;
            }
        }
    }

    /// <summary>Backward-shift deletion, so that probing never needs tombstones.</summary>
    private static void RemoveAt(Subset?[] slots, int hole)
    {
        var mask = slots.Length - 1;
        slots[hole] = null;
        for (var j = (hole + 1) & mask; slots[j] is { } next; j = (j + 1) & mask)
        {
            var home = next.Hash & mask;

            // Leave the entry where it is when its home lies cyclically in (hole, j].
            var stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays)
            {
                slots[hole] = next;
                slots[j] = null;
                hole = j;
            }
        }
    }
}
