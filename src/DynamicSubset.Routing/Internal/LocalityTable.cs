namespace DynamicSubset.Routing.Internal;

/// <summary>
/// One subset's endpoints ranked for one caller under <c>localityLbSetting</c>: levels (priorities, or distribute
/// targets), each a subset of its own with its share of the requests. Made on the first pick a snapshot's subset gets
/// from a caller with a locality, and kept with the subset: a health change makes new subsets, so shares never go stale.
/// </summary>
internal sealed class LocalityTable
{
    // Shares are in millionths; a level's share is scaled by its healthy fraction times Envoy's overprovisioning factor.
    private const long Scale = 1_000_000;
    private const long OverprovisioningPercent = 140;

    private readonly LocalityLoadBalancing _rule;
    private readonly bool _failover;
    private readonly Locality _caller;
    private readonly IReadOnlyDictionary<string, string>? _labels;
    private readonly string?[] _labelValues; // the caller's value of each failoverPriority label the ranks read (null: topology, or none)
    private readonly Subset[] _levels;
    private readonly int[][] _toParent;
    private readonly long[] _cumulative;

    private LocalityTable(
        LocalityLoadBalancing rule, bool failover, Locality caller, IReadOnlyDictionary<string, string>? labels, Subset[] levels, int[][] toParent, long[] cumulative)
    {
        _rule = rule;
        _failover = failover;
        _caller = caller;
        _labels = labels;
        _labelValues = [.. rule.FailoverPriority.Select(label => IsTopology(label) ? null : labels?.GetValueOrDefault(label))];
        _levels = levels;
        _toParent = toParent;
        _cumulative = cumulative;
    }

    /// <summary>Gets the parent's routable indexes level by level, best first (empty when locality changes nothing): the order retries go in.</summary>
    public int[][] Levels => _toParent;

    /// <summary>
    /// Whether the table ranks for this caller: the same rule, the same locality by value, and the same values of the
    /// labels <c>failoverPriority</c> reads (other labels do not change a rank). By value, so that two entry points of
    /// one process with equal identities, each with its own dictionary, share the table instead of rebuilding it by turns.
    /// </summary>
    public bool IsFor(LocalityLoadBalancing rule, bool failover, Locality caller, IReadOnlyDictionary<string, string>? labels)
    {
        if (!ReferenceEquals(rule, _rule) || failover != _failover || !caller.Equals(_caller))
        {
            return false;
        }

        if (ReferenceEquals(labels, _labels))
        {
            return true;
        }

        var order = rule.FailoverPriority;
        for (var i = 0; i < order.Length; i++)
        {
            if (_labelValues[i] != (IsTopology(order[i]) ? null : labels?.GetValueOrDefault(order[i])))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTopology(string label) => label is Locality.RegionLabel or Locality.ZoneLabel or Locality.SubzoneLabel;

    /// <summary>Picks a routable endpoint of <paramref name="parent"/>: a level by share, then one of its endpoints by the load balancer.</summary>
    public int Pick(Subset parent, LoadBalancingPolicy policy, Random? random)
    {
        var levels = _levels;
        if (levels.Length == 0)
        {
            return parent.Pick(policy, random);
        }

        var level = 0;
        if (levels.Length > 1)
        {
            var cumulative = _cumulative;
            var draw = random is null ? FastRandom.NextInt64(cumulative[^1]) : random.NextInt64(cumulative[^1]);
            while (cumulative[level] <= draw)
            {
                level++;
            }
        }

        var index = levels[level].Pick(policy, random);
        return index < 0 ? -1 : _toParent[level][index];
    }

    public static LocalityTable Build(Subset parent, LocalityLoadBalancing rule, bool failover, Locality caller, IReadOnlyDictionary<string, string>? labels)
    {
        var distribution = rule.Distribute.FirstOrDefault(d => caller.IsWithin(d.From));
        if (distribution is null && !failover)
        {
            return new LocalityTable(rule, failover, caller, labels, [], [], []); // no entry for this caller, and no failover without outlier detection
        }

        var members = parent.Members;
        var routable = parent.Routable;

        // Each member's rank (-1: no share), with how many members and which routable ones each rank has.
        var ranks = new Dictionary<int, (int Members, List<int> Routable)>();
        for (int i = 0, r = 0; i < members.Length; i++)
        {
            var isRoutable = r < routable.Length && ReferenceEquals(routable[r].Endpoint, members[i].Endpoint);
            var where = Locality.Of(members[i].Endpoint.Labels);
            var rank = distribution is not null ? DistributeRank(distribution, where) : PriorityRank(rule, caller, labels, where, members[i].Endpoint);
            if (rank >= 0)
            {
                ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(ranks, rank, out var exists);
                entry = exists ? entry : (0, []);
                entry.Members++;
                if (isRoutable)
                {
                    entry.Routable.Add(r);
                }
            }

            r += isRoutable ? 1 : 0;
        }

        var levels = new List<Subset>();
        var toParent = new List<int[]>();
        var shares = new List<long>();
        var left = Scale;
        foreach (var (rank, (count, indexes)) in ranks.OrderBy(static r => r.Key))
        {
            var health = Math.Min(Scale, Scale * indexes.Count * OverprovisioningPercent / (100L * count));
            var share = distribution is not null
                ? distribution.To[rank].Value * health
                : Math.Min(left, health); // priorities: each level takes what the better ones leave, up to its health
            left -= distribution is null ? share : 0;
            if (indexes.Count == 0)
            {
                continue; // a level with a share of zero stays, for the order retries go in; one without endpoints does not
            }

            var slots = new EndpointSlot[indexes.Count];
            for (var i = 0; i < slots.Length; i++)
            {
                slots[i] = routable[indexes[i]];
            }

            levels.Add(new Subset(parent.Keys, parent.ValueSegment, parent.Hash, slots, new RotationCounter(), parent.IsSelectorSubset));
            toParent.Add([.. indexes]);
            shares.Add(share);
        }

        // Nothing has a share (no endpoint in any target, or none healthy): locality changes nothing, as Envoy's panic.
        // One level with every routable endpoint changes nothing either.
        if (shares.Sum() == 0 || (levels.Count == 1 && toParent[0].Length == routable.Length))
        {
            return new LocalityTable(rule, failover, caller, labels, [], [], []);
        }

        var cumulative = new long[shares.Count];
        long sum = 0;
        for (var i = 0; i < shares.Count; i++)
        {
            sum += shares[i];
            cumulative[i] = sum; // under failover a total below Scale normalizes, as Envoy's does when health is short
        }

        return new LocalityTable(rule, failover, caller, labels, [.. levels], [.. toParent], cumulative);
    }

    private static int DistributeRank(LocalityDistribution distribution, Locality where)
    {
        for (var i = 0; i < distribution.To.Length; i++)
        {
            if (where.IsWithin(distribution.To[i].Key))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Istio's failover priorities: the caller's sub-zone 0, its zone 1, its region 2, its failover region 3, others 4;
    /// with failoverPriority's n labels, n minus how many leading labels match, refined by the locality's rank when
    /// failover is also set.
    /// </summary>
    private static int PriorityRank(LocalityLoadBalancing rule, Locality caller, IReadOnlyDictionary<string, string>? labels, Locality where, Endpoint endpoint)
    {
        var byLocality = where.Region != caller.Region ? (rule.Failover.Any(f => f.From == caller.Region && f.To == where.Region) ? 3 : 4)
            : where.Zone != caller.Zone ? 2
            : where.Subzone != caller.Subzone ? 1
            : 0;
        var order = rule.FailoverPriority;
        if (order.IsEmpty)
        {
            return byLocality;
        }

        var matched = 0;
        foreach (var label in order)
        {
            var own = label switch
            {
                Locality.RegionLabel => caller.Region,
                Locality.ZoneLabel => caller.Zone,
                Locality.SubzoneLabel => caller.Subzone,
                _ => labels?.GetValueOrDefault(label),
            };
            if (string.IsNullOrEmpty(own) || !endpoint.Labels.TryGetValue(label, out var theirs) || theirs != own)
            {
                break;
            }

            matched++;
        }

        var rank = order.Length - matched;
        return rule.Failover.IsEmpty ? rank : (rank * 5) + byLocality;
    }
}
