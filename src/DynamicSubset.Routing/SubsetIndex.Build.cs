using System.Buffers;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

public sealed partial class SubsetIndex
{
    private static SubsetIndex Create(IEnumerable<Endpoint> endpoints, RoutingPolicy policy, SubsetIndex? previous)
    {
        var slots = CreateSlots(endpoints, previous, out var allRoutableAtOneWeight);
        var roundRobin = policy.LoadBalancing == LoadBalancingPolicy.RoundRobin;

        var tables = new List<SelectorTable>();
        var selectors = policy.DynamicSubset.SubsetSelectors;
        // Key sets seen, and the previous snapshot's tables by key set: hashed, so a rule with many selectors builds
        // in linear time (a scan per selector made 60,000 selectors take 24 s).
        var seen = new HashSet<string>(selectors.Length, StringComparer.Ordinal);
        var previousTables = previous?._tables.ToDictionary(static t => KeySetId(t.Keys.AsSpan()), StringComparer.Ordinal);
        for (var ordinal = 0; ordinal < selectors.Length; ordinal++)
        {
            var selector = selectors[ordinal];
            var id = KeySetId(selector.Keys.AsSpan());
            if (!seen.Add(id))
            {
                continue; // The first selector with a key set is the one that counts (SPEC rule 3).
            }

            var previousTable = previousTables?.GetValueOrDefault(id);
            tables.Add(CreateTable(selector, ordinal, slots, policy, previousTable, roundRobin, allRoutableAtOneWeight));
        }

        // The snapshot and its any-endpoint set share one list (and its leaves).
        var list = SlotList.Of(slots);
        var any = new Subset([], [], SubsetHash.Seed, list, CarryRotation(previous?._any, roundRobin), isSelectorSubset: false, allRoutableAtOneWeight);
        var @default = CreateDefault(policy, slots, previous, roundRobin, allRoutableAtOneWeight);
        return new SubsetIndex(policy, (previous?.Generation ?? 0) + 1, list, [.. tables], any, @default);
    }

    /// <summary>
    /// The endpoints as slots in address order, with the in-flight counters of the addresses that carry on from
    /// <paramref name="previous"/>; and whether every endpoint is healthy at one weight, read in the same pass, so that
    /// the sets need not scan their members again when it is so (the usual case).
    /// </summary>
    private static EndpointSlot[] CreateSlots(IEnumerable<Endpoint> endpoints, SubsetIndex? previous, out bool allRoutableAtOneWeight)
    {
        var list = endpoints as IReadOnlyCollection<Endpoint> ?? endpoints.ToList();
        var slots = new EndpointSlot[list.Count];
        var i = 0;
        allRoutableAtOneWeight = true;
        var weight = 0L;
        foreach (var endpoint in list)
        {
            if (endpoint is null)
            {
                throw new RoutingValidationException($"endpoints[{i}]", "endpoint must not be null", nameof(endpoints));
            }

            weight = i == 0 ? endpoint.Weight : weight;
            allRoutableAtOneWeight &= endpoint.IsHealthy && endpoint.Weight == weight;
            slots[i++] = new EndpointSlot(endpoint, null!); // the counter comes below, once the slots are sorted
        }

        // A list in strictly ascending order (as a source that sorts, or a rebuild from a snapshot, gives it) is sorted and
        // has no address twice: one pass. Otherwise sort it, then look for an address given twice.
        if (!IsStrictlyAscending(slots))
        {
            slots.AsSpan().Sort(default(AddressComparer));
            for (i = 1; i < slots.Length; i++)
            {
                if (slots[i - 1].Address == slots[i].Address)
                {
                    throw new RoutingValidationException(
                        "endpoints", $"address {slots[i].Endpoint.Authority} is given twice", nameof(endpoints));
                }
            }
        }

        // Take over the in-flight counters of the addresses that carry on: both arrays are sorted, so one merge walk.
        var carried = previous?._slots ?? default;
        var j = 0;
        for (i = 0; i < slots.Length; i++)
        {
            var counter = carried.IsEmpty ? null : Carried(carried, slots[i].Address, ref j);
            slots[i] = new EndpointSlot(slots[i].Endpoint, counter ?? new InFlightCounter());
        }

        return slots;
    }

    /// <summary>The counter of <paramref name="address"/> in <paramref name="carried"/>, walking on from <paramref name="j"/>; null when it is new.</summary>
    private static InFlightCounter? Carried(SlotList carried, EndpointAddress address, ref int j)
    {
        while (j < carried.Length && carried[j].Address.CompareTo(address) < 0)
        {
            j++;
        }

        return j < carried.Length && carried[j].Address == address ? carried[j].InFlight : null;
    }

    private static bool IsStrictlyAscending(EndpointSlot[] slots)
    {
        for (var i = 1; i < slots.Length; i++)
        {
            if (slots[i - 1].Address.CompareTo(slots[i].Address) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Groups the (sorted) slots by their values for the selector's keys, in one pass with one hash probe per
    /// endpoint, and lays the subsets out as the selector's table. The values and the members of all subsets go
    /// into two shared arrays, each subset's members contiguous and still in address order. The scratch arrays
    /// come from the array pool: at 100k endpoints they are large-object-heap sized, and allocating them on
    /// every build brings on gen-2 collections.
    /// </summary>
    private static SelectorTable CreateTable(
        SubsetSelector selector, int ordinal, EndpointSlot[] slots, RoutingPolicy policy, SelectorTable? previous, bool roundRobin, bool allRoutableAtOneWeight)
    {
        var keys = selector.Keys.ToArray();
        var scratch = new GroupScratch(keys.Length, slots.Length);
        try
        {
            var values = scratch.Group(slots, keys);
            var groups = scratch.Groups;
            var width = keys.Length;

            // Counting sort into one member array; `ends` counts up from each group's start to its end.
            var starts = scratch.Starts;
            var ends = scratch.Sizes;
            var assigned = 0;
            for (var g = 0; g < groups; g++)
            {
                starts[g] = assigned;
                assigned += ends[g];
                ends[g] = starts[g];
            }

            var members = new EndpointSlot[assigned];
            var groupOf = scratch.GroupOf;
            for (var i = 0; i < slots.Length; i++)
            {
                var g = groupOf[i];
                if (g >= 0)
                {
                    members[ends[g]++] = slots[i];
                }
            }

            var subsets = scratch.Subsets;
            var hashes = scratch.Hashes;
            for (var g = 0; g < groups; g++)
            {
                var groupValues = new ArraySegment<string>(values, g * width, width);
                var rotation = roundRobin ? CarryRotation(previous?.Find(groupValues), roundRobin) : null; // no lookup unless it is needed
                subsets[g] = new Subset(keys, groupValues, hashes[g], new ArraySegment<EndpointSlot>(members, starts[g], ends[g] - starts[g]), rotation, allRoutableAtOneWeight: allRoutableAtOneWeight);
            }

            var capacity = SelectorTable.CapacityFor(groups);
            if (capacity != scratch.ProbeCapacity)
            {
                return SelectorTable.Create(selector, ordinal, subsets.AsSpan(0, groups), policy);
            }

            // Same capacity: each subset goes where its group was probed, which is where inserting them in order would put it.
            var table = new SelectorTable.Slots(capacity);
            var probes = scratch.Probes;
            for (var p = 0; p < capacity; p++)
            {
                if (probes[p] != 0)
                {
                    table[p] = subsets[probes[p] - 1];
                }
            }

            return SelectorTable.Create(selector, ordinal, table, groups, policy);
        }
        finally
        {
            scratch.Return();
        }
    }

    private static Subset? CreateDefault(RoutingPolicy policy, EndpointSlot[] slots, SubsetIndex? previous, bool roundRobin, bool allRoutableAtOneWeight)
    {
        var pairs = policy.DynamicSubset.DefaultSubsetLabels;
        if (pairs.Count == 0)
        {
            return null;
        }

        var keys = pairs.Keys.ToArray();
        var values = pairs.Values.ToArray();
        var members = Array.FindAll(slots, s => MatchesDefault(s.Endpoint, pairs));
        return new Subset(keys, values, SubsetHash.Of(values), members, CarryRotation(previous?._default, roundRobin), isSelectorSubset: false, allRoutableAtOneWeight);
    }

    private static RotationCounter? CarryRotation(Subset? previous, bool roundRobin) =>
        roundRobin ? previous?.Rotation ?? new RotationCounter() : null;

    /// <summary>One string per key set (keys are sorted); each key is length-prefixed, so no two sets share an id.</summary>
    private static string KeySetId(ReadOnlySpan<string> keys)
    {
        var builder = new System.Text.StringBuilder();
        foreach (var key in keys)
        {
            builder.Append(key.Length).Append(':').Append(key);
        }

        return builder.ToString();
    }

    /// <summary>Finds an endpoint by address.</summary>
    internal Endpoint? FindEndpoint(EndpointAddress address) => FindSlot(address)?.Endpoint;

    /// <summary>Finds the endpoint at an address: a binary search, for a source that sends incremental changes.</summary>
    /// <param name="address">The address.</param>
    /// <param name="endpoint">The endpoint there.</param>
    /// <returns><see langword="true"/> if the snapshot has an endpoint at the address.</returns>
    public bool TryGetEndpoint(EndpointAddress address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Endpoint? endpoint)
    {
        endpoint = FindEndpoint(address);
        return endpoint is not null;
    }

    /// <summary>The requests in flight to an endpoint now (tracked for LEAST_REQUEST), for inspection.</summary>
    internal int InFlight(EndpointAddress address) => FindSlot(address)?.InFlight.Value ?? 0;

    private EndpointSlot? FindSlot(EndpointAddress address)
    {
        var i = _slots.IndexOf(address);
        return i >= 0 ? _slots[i] : null;
    }

    private readonly struct AddressComparer : IComparer<EndpointSlot>
    {
        public int Compare(EndpointSlot x, EndpointSlot y) => x.Address.CompareTo(y.Address);
    }

    /// <summary>
    /// The working arrays of one selector's grouping, rented from the array pool. The probe table grows as groups
    /// are found (at most half full), so a selector with few subsets does not pay for a table sized for every endpoint.
    /// </summary>
    private sealed class GroupScratch
    {
        private readonly int _width;
        private string[] _values;

        public GroupScratch(int width, int endpoints)
        {
            _width = width;
            GroupOf = ArrayPool<int>.Shared.Rent(endpoints);
            var initial = Math.Clamp(endpoints, 1, 16);
            Hashes = ArrayPool<int>.Shared.Rent(initial);
            Sizes = ArrayPool<int>.Shared.Rent(initial);
            ProbeCapacity = SelectorTable.CapacityFor(initial);
            Probes = RentCleared(ProbeCapacity);
            _values = new string[initial * width];
        }

        public int[] GroupOf { get; }

        public int[] Hashes { get; private set; }

        public int[] Sizes { get; private set; }

        /// <summary>Gets, for each probe position, the group placed there plus one; 0 for empty. Only the first <see cref="ProbeCapacity"/> entries count.</summary>
        public int[] Probes { get; private set; }

        public int ProbeCapacity { get; private set; }

        public int Groups { get; private set; }

        public int[] Starts { get; private set; } = [];

        public Subset[] Subsets { get; private set; } = [];

        /// <summary>Groups the slots; returns the values array (group g's values at [g * width, (g + 1) * width)), which the subsets keep.</summary>
        public string[] Group(EndpointSlot[] slots, string[] keys)
        {
            var current = new string[_width];
            for (var i = 0; i < slots.Length; i++)
            {
                GroupOf[i] = TryGetValues(slots[i].Endpoint, keys, current) ? GroupFor(current) : -1;
            }

            Starts = ArrayPool<int>.Shared.Rent(Groups);
            Subsets = ArrayPool<Subset>.Shared.Rent(Groups);
            return _values;
        }

        public void Return()
        {
            ArrayPool<int>.Shared.Return(GroupOf);
            ArrayPool<int>.Shared.Return(Hashes);
            ArrayPool<int>.Shared.Return(Sizes);
            ArrayPool<int>.Shared.Return(Probes);
            if (Starts.Length > 0)
            {
                ArrayPool<int>.Shared.Return(Starts);
            }

            if (Subsets.Length > 0)
            {
                ArrayPool<Subset>.Shared.Return(Subsets, clearArray: true);
            }
        }

        private static int[] RentCleared(int length)
        {
            var array = ArrayPool<int>.Shared.Rent(length);
            Array.Clear(array, 0, length);
            return array;
        }

        private int GroupFor(string[] current)
        {
            var hash = SubsetHash.Of(current);
            var mask = ProbeCapacity - 1;
            for (var probe = hash & mask; ; probe = (probe + 1) & mask)
            {
                var group = Probes[probe] - 1;
                if (group < 0)
                {
                    group = Add(current, hash);
                    if (SelectorTable.CapacityFor(Groups) > ProbeCapacity)
                    {
                        GrowProbes();
                    }
                    else
                    {
                        Probes[probe] = group + 1;
                    }

                    Sizes[group] = 1;
                    return group;
                }

                if (Hashes[group] == hash && _values.AsSpan(group * _width, _width).SequenceEqual(current))
                {
                    Sizes[group]++;
                    return group;
                }
            }
        }

        private int Add(string[] current, int hash)
        {
            var group = Groups++;
            if (group == Hashes.Length || (_width > 0 && group * _width >= _values.Length))
            {
                Hashes = Grow(Hashes, group);
                Sizes = Grow(Sizes, group);
                Array.Resize(ref _values, Math.Max(1, group * 2) * _width);
            }

            Hashes[group] = hash;
            current.CopyTo(_values, group * _width);
            return group;
        }

        /// <summary>Doubles the probe table and re-places every group in order, as inserting them afresh would.</summary>
        private void GrowProbes()
        {
            ArrayPool<int>.Shared.Return(Probes);
            ProbeCapacity = SelectorTable.CapacityFor(Groups);
            Probes = RentCleared(ProbeCapacity);
            var mask = ProbeCapacity - 1;
            for (var g = 0; g < Groups; g++)
            {
                var probe = Hashes[g] & mask;
                while (Probes[probe] != 0)
                {
                    probe = (probe + 1) & mask;
                }

                Probes[probe] = g + 1;
            }
        }

        private static int[] Grow(int[] array, int used)
        {
            var grown = ArrayPool<int>.Shared.Rent(Math.Max(16, used * 2));
            Array.Copy(array, grown, used);
            ArrayPool<int>.Shared.Return(array);
            return grown;
        }
    }
}
