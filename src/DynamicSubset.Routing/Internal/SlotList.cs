using System.Runtime.CompilerServices;

namespace DynamicSubset.Routing.Internal;

/// <summary>
/// Endpoint slots in address order, as a snapshot, a subset or its routable part holds them. Up to
/// <see cref="ChunkAbove"/> slots they are one contiguous segment; above that, leaves of about <see cref="LeafSize"/>
/// slots each, so that a change copies the leaves it touches and the short spine, not the whole list (one relabel at
/// 100k endpoints copied 1.6 MB of slots before). Immutable; a merge returns a new list that shares every leaf it did
/// not touch.
/// </summary>
/// <remarks>
/// A pick reads one slot by index. In a flat list that is one array load; in a chunked one the leaf comes from a shift
/// while every leaf but the last holds exactly <see cref="LeafSize"/> (as a build lays them out, and as a relabel
/// leaves them), and otherwise from a binary search over the leaf starts (a few steps: 200 leaves at 100k).
/// </remarks>
internal readonly struct SlotList
{
    /// <summary>
    /// The slots of one leaf, as a build lays them out: 4 KB of 16-byte slots. A change copies a leaf and a spine of
    /// 20 bytes a leaf, so near the square root of a 100k list's size (in those units) the two costs balance.
    /// </summary>
    public const int LeafSize = 256;

    /// <summary>Lists longer than this are chunked.</summary>
    public const int ChunkAbove = 2 * LeafSize;

    private const int LeafShift = 8; // log2(LeafSize)

    // One reference and two ints, as an ArraySegment: a subset holds two of these, and a large service has a subset per
    // endpoint under %ip%. Flat: _store is an EndpointSlot[] and the list is [_offset, _offset + Length) of it.
    // Chunked: _store is the Leaves and _offset is -1.
    private readonly object? _store;
    private readonly int _offset;

    private SlotList(EndpointSlot[] array, int offset, int count)
    {
        _store = array;
        _offset = offset;
        Length = count;
    }

    private SlotList(Leaves leaves)
    {
        _store = leaves;
        _offset = -1;
        Length = leaves.Starts[^1];
    }

    public int Length { get; }

    private EndpointSlot[]? FlatArray => _offset >= 0 ? Unsafe.As<EndpointSlot[]>(_store) : null;

    private Leaves? Chunks => _offset < 0 ? Unsafe.As<Leaves>(_store) : null;

    public bool IsEmpty => Length == 0;

    /// <summary>Gets a value indicating whether the list is in leaves.</summary>
    public bool IsChunked => _offset < 0;

    public ref readonly EndpointSlot this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (_offset >= 0)
            {
                return ref Unsafe.As<EndpointSlot[]>(_store)![_offset + index];
            }

            return ref Unsafe.As<Leaves>(_store)!.At(index);
        }
    }

    /// <summary>A list over a sorted segment: kept as it is when short, otherwise cut into leaves that are views of the same array (no copy).</summary>
    public static SlotList Of(ArraySegment<EndpointSlot> sorted)
    {
        if (sorted.Count <= ChunkAbove)
        {
            return new SlotList(sorted.Array ?? [], sorted.Offset, sorted.Count);
        }

        var parts = new ArraySegment<EndpointSlot>[(sorted.Count + LeafSize - 1) / LeafSize];
        for (var k = 0; k < parts.Length; k++)
        {
            var start = k * LeafSize;
            parts[k] = sorted.Slice(start, Math.Min(LeafSize, sorted.Count - start));
        }

        return new SlotList(new Leaves(parts));
    }

    public static SlotList Of(EndpointSlot[] sorted) => Of(new ArraySegment<EndpointSlot>(sorted));

    /// <summary>The index of the slot at <paramref name="address"/>, or the complement of where it would go.</summary>
    public int IndexOf(EndpointAddress address)
    {
        if (Chunks is not { } leaves)
        {
            return FlatArray.AsSpan(_offset, Length).BinarySearch(new AddressOrder(address));
        }

        var parts = leaves.Parts;
        var k = LeafFor(parts, address);
        var within = parts[k].AsSpan().BinarySearch(new AddressOrder(address));
        return within >= 0 ? leaves.Starts[k] + within : ~(leaves.Starts[k] + ~within);
    }

    /// <summary>
    /// This list without the slots at <paramref name="leaving"/> (addresses that are not members are skipped), with
    /// <paramref name="added"/> merged in; both in address order, and no added address still a member. Only the leaves
    /// the change reaches are copied.
    /// </summary>
    public SlotList Merge(ReadOnlySpan<EndpointAddress> leaving, ReadOnlySpan<EndpointSlot> added)
    {
        if (Chunks is not { } leaves)
        {
            var merged = MergeSegment(FlatArray.AsSpan(_offset, Length), leaving, added);
            return merged is null ? this : Of(merged);
        }

        var parts = leaves.Parts;

        // Each leaf the change reaches may split into one leaf more than its added slots fill, at most; the spine is
        // built in a pooled array and copied out at its length. Only the leaves the edits reach are read (a binary
        // search each): the others are copied in blocks, without touching their endpoints.
        var result = System.Buffers.ArrayPool<ArraySegment<EndpointSlot>>.Shared.Rent((2 * parts.Length) + (added.Length / LeafSize) + 1);
        var used = 0;
        var next = 0; // the first leaf not yet in the result
        int l = 0, a = 0;
        while (l < leaving.Length || a < added.Length)
        {
            var k = Math.Min(
                l < leaving.Length ? LeafFor(parts, leaving[l]) : int.MaxValue,
                a < added.Length ? LeafFor(parts, added[a].Address) : int.MaxValue);
            parts.AsSpan(next, k - next).CopyTo(result.AsSpan(used));
            used += k - next;

            // Leaf k holds the addresses above leaf k - 1's last, up to its own last; the last leaf takes everything above.
            var last = k == parts.Length - 1;
            var upper = parts[k][^1].Address;
            var l0 = l;
            while (l < leaving.Length && (last || leaving[l].CompareTo(upper) <= 0))
            {
                l++;
            }

            var a0 = a;
            while (a < added.Length && (last || added[a].Address.CompareTo(upper) <= 0))
            {
                a++;
            }

            next = k + 1;
            var merged = MergeSegment(parts[k], leaving[l0..l], added[a0..a]);
            if (merged is null)
            {
                result[used++] = parts[k];
                continue;
            }

            // A leaf that grew past two leaves' worth splits into whole leaves and the rest; an emptied one goes.
            var start = 0;
            for (; merged.Length - start > ChunkAbove; start += LeafSize)
            {
                result[used++] = new ArraySegment<EndpointSlot>(merged, start, LeafSize);
            }

            if (merged.Length > start)
            {
                result[used++] = new ArraySegment<EndpointSlot>(merged, start, merged.Length - start);
            }
        }

        parts.AsSpan(next).CopyTo(result.AsSpan(used));
        used += parts.Length - next;

        try
        {
            var spine = result.AsSpan(0, used);
            var total = 0;
            foreach (var part in spine)
            {
                total += part.Count;
            }

            if (total > LeafSize)
            {
                return new SlotList(new Leaves(spine.ToArray()));
            }

            // Short again: one flat array.
            var flat = new EndpointSlot[total];
            var at = 0;
            foreach (var part in spine)
            {
                part.AsSpan().CopyTo(flat.AsSpan(at));
                at += part.Count;
            }

            return new SlotList(flat, 0, total);
        }
        finally
        {
            System.Buffers.ArrayPool<ArraySegment<EndpointSlot>>.Shared.Return(result, clearArray: true);
        }
    }

    /// <summary>The routable (healthy) slots of <paramref name="members"/>: the list itself when every member is routable.</summary>
    public static SlotList Healthy(SlotList members)
    {
        var count = 0;
        foreach (ref readonly var slot in members)
        {
            count += slot.Endpoint.IsHealthy ? 1 : 0;
        }

        if (count == members.Length)
        {
            return members;
        }

        var routable = new EndpointSlot[count];
        count = 0;
        foreach (ref readonly var slot in members)
        {
            if (slot.Endpoint.IsHealthy)
            {
                routable[count++] = slot;
            }
        }

        return Of(routable);
    }

    /// <summary>Whether two lists are the same list (the same storage), not merely equal.</summary>
    public bool IsSameAs(SlotList other) => ReferenceEquals(_store, other._store) && _offset == other._offset && Length == other.Length;

    public Enumerator GetEnumerator() => new(this);

    /// <summary>The first leaf whose last address is at or above <paramref name="address"/>, or the last leaf.</summary>
    private static int LeafFor(ArraySegment<EndpointSlot>[] parts, EndpointAddress address)
    {
        int lo = 0, hi = parts.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (parts[mid][^1].Address.CompareTo(address) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// The members without <paramref name="leaving"/>, with <paramref name="added"/>; null when that changes nothing.
    /// Each edit is placed by a binary search and the members between edits are copied in blocks, so the members'
    /// endpoints are read a few times per edit, not once each.
    /// </summary>
    private static EndpointSlot[]? MergeSegment(ReadOnlySpan<EndpointSlot> members, ReadOnlySpan<EndpointAddress> leaving, ReadOnlySpan<EndpointSlot> added)
    {
        // At most every member leaves: a one-member subset with a burst's whole leaving list needs one place, not the list's.
        var most = Math.Min(leaving.Length, members.Length);
        var gone = most <= 32 ? stackalloc int[most] : new int[most];
        var removed = 0;
        var from = 0;
        foreach (var address in leaving)
        {
            if (from == members.Length)
            {
                break; // the rest leave from above the last member: none is here
            }

            var i = members[from..].BinarySearch(new AddressOrder(address));
            if (i >= 0)
            {
                gone[removed++] = from + i;
                from += i + 1;
            }
            else
            {
                from += ~i;
            }
        }

        if (removed == 0 && added.IsEmpty)
        {
            return null;
        }

        var result = new EndpointSlot[members.Length - removed + added.Length];
        int source = 0, target = 0, g = 0;
        from = 0;
        foreach (ref readonly var slot in added)
        {
            var i = members[from..].BinarySearch(new AddressOrder(slot.Address));
            var at = from + (i >= 0 ? i : ~i); // an address still here is one that leaves: the new slot takes its place
            CopyKept(members, gone[..removed], ref g, ref source, at, result, ref target);
            result[target++] = slot;
            from = at;
        }

        CopyKept(members, gone[..removed], ref g, ref source, members.Length, result, ref target);
        return result;
    }

    /// <summary>Copies members [source, end) that do not leave to the result, in blocks between the leaving ones.</summary>
    private static void CopyKept(ReadOnlySpan<EndpointSlot> members, ReadOnlySpan<int> gone, ref int g, ref int source, int end, EndpointSlot[] result, ref int target)
    {
        while (g < gone.Length && gone[g] < end)
        {
            members[source..gone[g]].CopyTo(result.AsSpan(target));
            target += gone[g] - source;
            source = gone[g] + 1;
            g++;
        }

        if (end > source)
        {
            members[source..end].CopyTo(result.AsSpan(target));
            target += end - source;
            source = end;
        }
    }

    public struct Enumerator
    {
        private readonly SlotList _list;
        private int _index;

        internal Enumerator(SlotList list)
        {
            _list = list;
            _index = -1;
        }

        public readonly ref readonly EndpointSlot Current => ref _list[_index];

        public bool MoveNext() => ++_index < _list.Length;
    }

    private readonly struct AddressOrder(EndpointAddress address) : IComparable<EndpointSlot>
    {
        public int CompareTo(EndpointSlot other) => address.CompareTo(other.Address);
    }

    /// <summary>The leaves of a chunked list, with where each starts. No leaf is empty (a merge drops an emptied one).</summary>
    private sealed class Leaves
    {
        private readonly bool _uniform; // every leaf but the last holds exactly LeafSize, and the last at most that

        public Leaves(ArraySegment<EndpointSlot>[] parts)
        {
            Parts = parts;
            Starts = new int[parts.Length + 1];
            _uniform = true;
            for (var k = 0; k < parts.Length; k++)
            {
                Starts[k + 1] = Starts[k] + parts[k].Count;
                _uniform &= k == parts.Length - 1 ? parts[k].Count is > 0 and <= LeafSize : parts[k].Count == LeafSize;
            }
        }

        public ArraySegment<EndpointSlot>[] Parts { get; }

        /// <summary>Gets where each leaf starts, and the total at the end.</summary>
        public int[] Starts { get; }

        public ref readonly EndpointSlot At(int index)
        {
            int k;
            if (_uniform)
            {
                k = index >> LeafShift;
            }
            else
            {
                // The last leaf that starts at or before the index: never an empty one.
                var starts = Starts;
                int lo = 0, hi = Parts.Length - 1;
                while (lo < hi)
                {
                    var mid = (lo + hi + 1) >>> 1;
                    if (starts[mid] <= index)
                    {
                        lo = mid;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }

                k = lo;
            }

            var part = Parts[k];
            return ref part.Array![part.Offset + index - Starts[k]];
        }
    }
}
