using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

public sealed partial class SubsetIndex
{
    /// <summary>
    /// Builds the next snapshot by applying changes in order. Only the subsets that hold a changed endpoint,
    /// before or after the change, are rebuilt; everything else is shared with this snapshot.
    /// </summary>
    /// <param name="changes">The changes, applied in order.</param>
    /// <returns>The next snapshot, or this one when the changes change nothing.</returns>
    public SubsetIndex Apply(IEnumerable<EndpointChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);

        // Fold the changes into one final state per touched address (null: removed).
        var final = new Dictionary<EndpointAddress, Endpoint?>();
        foreach (var change in changes)
        {
            var current = final.TryGetValue(change.Address, out var pending) ? pending : FindSlot(change.Address)?.Endpoint;
            final[change.Address] = change.Kind switch
            {
                EndpointChangeKind.Upsert => change.Endpoint,
                EndpointChangeKind.Remove => null,
                EndpointChangeKind.SetHealth => current?.WithHealth(change.IsHealthy),
                EndpointChangeKind.SetLabels => current?.WithLabels(change.Labels),
                _ => throw new ArgumentOutOfRangeException(nameof(changes), change.Kind, "unknown change kind"),
            };
        }

        // Keep only real differences, as (old slot, new slot) pairs ordered by address.
        var edits = new List<(EndpointSlot? Old, EndpointSlot? New)>();
        foreach (var (address, endpoint) in final)
        {
            var old = FindSlot(address);
            if ((old is null && endpoint is null) || (old is { } kept && kept.Endpoint.Equals(endpoint)))
            {
                continue;
            }

            edits.Add((old, endpoint is null ? null : new EndpointSlot(endpoint, old?.InFlight ?? new InFlightCounter())));
        }

        if (edits.Count == 0)
        {
            return this;
        }

        edits.Sort(static (a, b) => (a.Old ?? a.New)!.Value.Address.CompareTo((b.Old ?? b.New)!.Value.Address));

        // What leaves (every old address) and what joins (every new slot), both in address order: each list merges
        // them in one pass over the leaves they reach.
        var leaving = new List<EndpointAddress>(edits.Count);
        var joining = new List<EndpointSlot>(edits.Count);
        foreach (var (old, @new) in edits)
        {
            if (old is { } before)
            {
                leaving.Add(before.Address);
            }

            if (@new is { } after)
            {
                joining.Add(after);
            }
        }

        var leavingSpan = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(leaving);
        var slots = _slots.Merge(leavingSpan, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(joining));
        var roundRobin = Policy.LoadBalancing == LoadBalancingPolicy.RoundRobin;

        var tables = new SelectorTable[_tables.Length];
        for (var t = 0; t < tables.Length; t++)
        {
            tables[t] = PatchTable(_tables[t], edits, leaving, roundRobin);
        }

        var joiningSpan = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(joining);
        var any = Next(_any, slots, leavingSpan, joiningSpan, edits);
        var @default = _default;
        var defaults = Policy.DynamicSubset.DefaultSubsetLabels;
        if (@default is not null && edits.Exists(e =>
                (e.Old is { } old && MatchesDefault(old.Endpoint, defaults)) ||
                (e.New is { } @new && MatchesDefault(@new.Endpoint, defaults))))
        {
            var joiningDefault = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(joining.FindAll(s => MatchesDefault(s.Endpoint, defaults)));
            @default = Next(@default, @default.Members.Merge(leavingSpan, joiningDefault), leavingSpan, joiningDefault, edits);
        }

        return new SubsetIndex(Policy, Generation + 1, slots, tables, any, @default);
    }

    /// <summary>
    /// The set that follows <paramref name="before"/> once the edits are applied, over its new members: its routable part
    /// is the previous one merged with the same edits (the healthy joiners only), so no member is read again; and a set
    /// whose routable endpoints had one weight, joined by endpoints of that weight, skips the weight scan.
    /// </summary>
    private static Subset Next(Subset before, SlotList members, ReadOnlySpan<EndpointAddress> leaving, ReadOnlySpan<EndpointSlot> joining, List<(EndpointSlot? Old, EndpointSlot? New)> edits)
    {
        var healthy = 0;
        foreach (ref readonly var slot in joining)
        {
            healthy += slot.Endpoint.IsHealthy ? 1 : 0;
        }

        SlotList routable;
        if (healthy == joining.Length && before.Routable.IsSameAs(before.Members))
        {
            routable = members; // all routable before, and every joiner is
        }
        else if (healthy == joining.Length)
        {
            routable = before.Routable.Merge(leaving, joining);
        }
        else
        {
            var joiningHealthy = new EndpointSlot[healthy];
            healthy = 0;
            foreach (ref readonly var slot in joining)
            {
                if (slot.Endpoint.IsHealthy)
                {
                    joiningHealthy[healthy++] = slot;
                }
            }

            routable = before.Routable.Merge(leaving, joiningHealthy);
        }

        return new Subset(before.Keys, before.ValueSegment, before.Hash, members, routable, before.Rotation, before.IsSelectorSubset, StaysAtOneWeight(before, edits));
    }

    /// <summary>
    /// Whether a set whose routable endpoints all had one weight keeps one weight after the edits: true when every
    /// endpoint that joins or changes has that weight (health aside: an unhealthy one is not routable, which cannot break it).
    /// </summary>
    private static bool StaysAtOneWeight(Subset before, List<(EndpointSlot? Old, EndpointSlot? New)> edits)
    {
        if (!before.IsAtOneWeight || before.Routable.IsEmpty)
        {
            return false;
        }

        var weight = before.Routable[0].Endpoint.Weight;
        foreach (var (_, @new) in edits)
        {
            if (@new is { Endpoint.Weight: var joining } && joining != weight)
            {
                return false;
            }
        }

        return true;
    }

    private static SelectorTable PatchTable(
        SelectorTable table, List<(EndpointSlot? Old, EndpointSlot? New)> edits, List<EndpointAddress> leaving, bool roundRobin)
    {
        // The value tuples this change touches: where each changed endpoint was, and where it goes.
        var touched = new Dictionary<string[], List<EndpointSlot>>(ValuesComparer.Instance);
        var scratch = new string[table.Keys.Length];
        foreach (var (old, @new) in edits)
        {
            if (old is { } before && TryGetValues(before.Endpoint, table.Keys, scratch) && !touched.ContainsKey(scratch))
            {
                touched.Add((string[])scratch.Clone(), []);
            }

            if (@new is { } after && TryGetValues(after.Endpoint, table.Keys, scratch))
            {
                if (!touched.TryGetValue(scratch, out var added))
                {
                    touched.Add((string[])scratch.Clone(), added = []);
                }

                added.Add(after);
            }
        }

        if (touched.Count == 0)
        {
            return table;
        }

        var removed = new List<Subset>();
        var replaced = new List<Subset>();
        foreach (var (values, added) in touched)
        {
            var before = table.Find(values);
            var leavingSpan = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(leaving);
            var addedSpan = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(added);
            var members = before is null ? SlotList.Of([.. added]) : before.Members.Merge(leavingSpan, addedSpan);
            if (members.Length == 0)
            {
                if (before is not null)
                {
                    removed.Add(before);
                }
            }
            else
            {
                var rotation = before?.Rotation ?? (roundRobin ? new RotationCounter() : null);
                replaced.Add(before is null
                    ? new Subset(table.Keys, values, SubsetHash.Of(values), members, rotation, isSelectorSubset: true, allRoutableAtOneWeight: false)
                    : Next(before, members, leavingSpan, addedSpan, edits));
            }
        }

        return table.With(removed, replaced);
    }

    private sealed class ValuesComparer : IEqualityComparer<string[]>
    {
        public static readonly ValuesComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] obj) => SubsetHash.Of(obj);
    }
}
