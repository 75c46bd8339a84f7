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
            tables.Add(SelectorTable.Create(selector, ordinal, GroupSlots(selector, slots, previousTable, roundRobin), policy));
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

            slots[i++] = new EndpointSlot(endpoint, previous?.FindSlot(endpoint.AddressKey)?.InFlight ?? new InFlightCounter());
        }

        Array.Sort(slots, static (a, b) => a.Address.CompareTo(b.Address));
        for (i = 1; i < slots.Length; i++)
        {
            if (slots[i - 1].Address == slots[i].Address)
            {
                throw new RoutingValidationException(
                    "endpoints", $"address {slots[i].Endpoint.Authority} is given twice", nameof(endpoints));
            }
        }

        return slots;
    }

    /// <summary>Groups the (sorted) slots by their values for the selector's keys; one pass, one hash probe per endpoint.</summary>
    private static List<Subset> GroupSlots(SubsetSelector selector, EndpointSlot[] slots, SelectorTable? previous, bool roundRobin)
    {
        var keys = selector.Keys.ToArray();
        var groupOf = new int[slots.Length];
        var groupValues = new List<string[]>();
        var groupHashes = new List<int>();
        var groupSizes = new List<int>();
        var table = new int[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, slots.Length * 2))];
        var mask = table.Length - 1;
        var scratch = new string[keys.Length];

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
                group = table[probe] - 1;
                if (group < 0)
                {
                    group = groupValues.Count;
                    table[probe] = group + 1;
                    groupValues.Add((string[])scratch.Clone());
                    groupHashes.Add(hash);
                    groupSizes.Add(0);
                    break;
                }

                if (groupHashes[group] == hash && groupValues[group].AsSpan().SequenceEqual(scratch))
                {
                    break;
                }

                probe = (probe + 1) & mask;
            }

            groupOf[i] = group;
            groupSizes[group]++;
        }

        var members = new EndpointSlot[groupValues.Count][];
        for (var g = 0; g < members.Length; g++)
        {
            members[g] = new EndpointSlot[groupSizes[g]];
            groupSizes[g] = 0;
        }

        for (var i = 0; i < slots.Length; i++)
        {
            var g = groupOf[i];
            if (g >= 0)
            {
                members[g][groupSizes[g]++] = slots[i];
            }
        }

        var subsets = new List<Subset>(members.Length);
        for (var g = 0; g < members.Length; g++)
        {
            var rotation = CarryRotation(previous?.Find(groupValues[g]), roundRobin);
            subsets.Add(new Subset(keys, groupValues[g], groupHashes[g], members[g], rotation));
        }

        return subsets;
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
}
