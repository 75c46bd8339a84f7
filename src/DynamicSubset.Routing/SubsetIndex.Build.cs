using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

public sealed partial class SubsetIndex
{
    private static SubsetIndex Create(IEnumerable<Endpoint> endpoints, RoutingPolicy policy, SubsetIndex? previous)
    {
        var slots = CreateSlots(endpoints, previous);
        var roundRobin = policy.LoadBalancing == LoadBalancingPolicy.RoundRobin;

        var tables = new List<SelectorTable>();
        var selectors = policy.DynamicSubset.SubsetSelectors;
        for (var ordinal = 0; ordinal < selectors.Length; ordinal++)
        {
            var selector = selectors[ordinal];
            if (tables.Any(t => t.Selector.HasSameKeys(selector)))
            {
                continue; // The first selector with a key set is the one that counts (SPEC rule 3).
            }

            var previousTable = previous?.FindTable(selector.Keys.AsSpan());
            tables.Add(CreateTable(selector, ordinal, slots, policy, previousTable, roundRobin));
        }

        var any = new Subset([], [], SubsetHash.Seed, slots, CarryRotation(previous?._any, roundRobin), isSelectorSubset: false);
        var @default = CreateDefault(policy, slots, previous, roundRobin);
        return new SubsetIndex(policy, (previous?.Generation ?? 0) + 1, slots, [.. tables], any, @default);
    }

    private static EndpointSlot[] CreateSlots(IEnumerable<Endpoint> endpoints, SubsetIndex? previous)
    {
        var list = endpoints as IReadOnlyCollection<Endpoint> ?? endpoints.ToList();
        var slots = new EndpointSlot[list.Count];
        var i = 0;
        foreach (var endpoint in list)
        {
            if (endpoint is null)
            {
                throw new RoutingValidationException($"endpoints[{i}]", "endpoint must not be null", nameof(endpoints));
            }

            slots[i++] = new EndpointSlot(endpoint, null!); // the counter comes below, once the slots are sorted
        }

        if (!IsSortedByAddress(slots))
        {
            slots.AsSpan().Sort(default(AddressComparer));
        }

        for (i = 1; i < slots.Length; i++)
        {
            if (slots[i - 1].Address == slots[i].Address)
            {
                throw new RoutingValidationException(
                    "endpoints", $"address {slots[i].Endpoint.Authority} is given twice", nameof(endpoints));
            }
        }

        // Take over the in-flight counters of the addresses that carry on: both arrays are sorted, so one merge walk.
        var carried = previous?._slots ?? [];
        var j = 0;
        for (i = 0; i < slots.Length; i++)
        {
            var address = slots[i].Address;
            while (j < carried.Length && carried[j].Address.CompareTo(address) < 0)
            {
                j++;
            }

            var counter = j < carried.Length && carried[j].Address == address ? carried[j].InFlight : new InFlightCounter();
            slots[i] = new EndpointSlot(slots[i].Endpoint, counter);
        }

        return slots;
    }

    private static bool IsSortedByAddress(EndpointSlot[] slots)
    {
        for (var i = 1; i < slots.Length; i++)
        {
            if (slots[i - 1].Address.CompareTo(slots[i].Address) > 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Groups the (sorted) slots by their values for the selector's keys, in one pass with one hash probe per
    /// endpoint, and lays the subsets out as the selector's table. The values and the members of all subsets go
    /// into two shared arrays, each subset's members contiguous and still in address order.
    /// </summary>
    private static SelectorTable CreateTable(
        SubsetSelector selector, int ordinal, EndpointSlot[] slots, RoutingPolicy policy, SelectorTable? previous, bool roundRobin)
    {
        var keys = selector.Keys.ToArray();
        var width = keys.Length;
        var groupOf = new int[slots.Length];
        var probes = new int[SelectorTable.CapacityFor(slots.Length)]; // group + 1 where the group was placed; 0 for empty
        var mask = probes.Length - 1;
        var initial = Math.Clamp(slots.Length, 1, 16);
        var values = new string[initial * width]; // group g's values at [g * width, (g + 1) * width)
        var hashes = new int[initial];
        var sizes = new int[initial];
        var groups = 0;
        var scratch = new string[width];

        for (var i = 0; i < slots.Length; i++)
        {
            if (!TryGetValues(slots[i].Endpoint, keys, scratch))
            {
                groupOf[i] = -1;
                continue;
            }

            var hash = SubsetHash.Of(scratch);
            var probe = hash & mask;
            int group;
            while (true)
            {
                group = probes[probe] - 1;
                if (group < 0)
                {
                    group = groups++;
                    if (group == hashes.Length)
                    {
                        Array.Resize(ref hashes, group * 2);
                        Array.Resize(ref sizes, group * 2);
                        Array.Resize(ref values, group * 2 * width);
                    }

                    probes[probe] = group + 1;
                    hashes[group] = hash;
                    scratch.CopyTo(values, group * width);
                    break;
                }

                if (hashes[group] == hash && values.AsSpan(group * width, width).SequenceEqual(scratch))
                {
                    break;
                }

                probe = (probe + 1) & mask;
            }

            groupOf[i] = group;
            sizes[group]++;
        }

        // Counting sort into one member array; `ends` counts up from each group's start to its end.
        var starts = new int[groups];
        var ends = sizes;
        var assigned = 0;
        for (var g = 0; g < groups; g++)
        {
            starts[g] = assigned;
            assigned += sizes[g];
            ends[g] = starts[g];
        }

        var members = new EndpointSlot[assigned];
        for (var i = 0; i < slots.Length; i++)
        {
            var g = groupOf[i];
            if (g >= 0)
            {
                members[ends[g]++] = slots[i];
            }
        }

        var subsets = new Subset[groups];
        for (var g = 0; g < groups; g++)
        {
            var groupValues = new ArraySegment<string>(values, g * width, width);
            var rotation = CarryRotation(previous?.Find(groupValues), roundRobin);
            subsets[g] = new Subset(keys, groupValues, hashes[g], new ArraySegment<EndpointSlot>(members, starts[g], ends[g] - starts[g]), rotation);
        }

        if (SelectorTable.CapacityFor(groups) != probes.Length)
        {
            return SelectorTable.Create(selector, ordinal, subsets, policy);
        }

        // Same capacity: each subset goes where its group was probed, which is where inserting them in order would put it.
        var table = new Subset?[probes.Length];
        for (var p = 0; p < probes.Length; p++)
        {
            if (probes[p] != 0)
            {
                table[p] = subsets[probes[p] - 1];
            }
        }

        return SelectorTable.Create(selector, ordinal, table, groups, policy);
    }

    private static Subset? CreateDefault(RoutingPolicy policy, EndpointSlot[] slots, SubsetIndex? previous, bool roundRobin)
    {
        var pairs = policy.DynamicSubset.DefaultSubsetLabels;
        if (pairs.Count == 0)
        {
            return null;
        }

        var keys = pairs.Keys.ToArray();
        var values = pairs.Values.ToArray();
        var members = Array.FindAll(slots, s => MatchesDefault(s.Endpoint, pairs));
        return new Subset(keys, values, SubsetHash.Of(values), members, CarryRotation(previous?._default, roundRobin), isSelectorSubset: false);
    }

    private static RotationCounter? CarryRotation(Subset? previous, bool roundRobin) =>
        roundRobin ? previous?.Rotation ?? new RotationCounter() : null;

    private SelectorTable? FindTable(ReadOnlySpan<string> keys)
    {
        foreach (var table in _tables)
        {
            if (table.Keys.AsSpan().SequenceEqual(keys))
            {
                return table;
            }
        }

        return null;
    }

    private EndpointSlot? FindSlot(EndpointAddress address)
    {
        var i = IndexOfSlot(_slots, address);
        return i >= 0 ? _slots[i] : null;
    }

    /// <summary>Binary search by address: the index, or the complement of where it would go.</summary>
    private static int IndexOfSlot(EndpointSlot[] slots, EndpointAddress address) => slots.AsSpan().BinarySearch(new AddressOrder(address));

    private readonly struct AddressOrder(EndpointAddress address) : IComparable<EndpointSlot>
    {
        public int CompareTo(EndpointSlot other) => address.CompareTo(other.Address);
    }

    private readonly struct AddressComparer : IComparer<EndpointSlot>
    {
        public int Compare(EndpointSlot x, EndpointSlot y) => x.Address.CompareTo(y.Address);
    }
}
