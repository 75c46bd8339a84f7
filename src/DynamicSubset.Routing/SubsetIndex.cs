using System.Collections.Immutable;
using System.Text.Json;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// An immutable snapshot of one service: its endpoints grouped into dynamic subsets under a
/// <see cref="RoutingPolicy"/>, ready to resolve requests.
/// </summary>
/// <remarks>
/// <para>
/// Build one with <see cref="Build"/>; derive the next with <see cref="Apply(IEnumerable{EndpointChange})"/>,
/// <see cref="Rebuild(IEnumerable{Endpoint})"/> or <see cref="WithPolicy"/>. A derived snapshot shares everything its change did not
/// touch, and takes over the live state (round-robin positions, in-flight counts) of the subsets and
/// endpoints that carry on. Publish snapshots through a <see cref="SubsetResolver"/>.
/// </para>
/// <para>
/// Endpoints are ordered by address everywhere, so a snapshot reached by changes equals one built afresh
/// from the same endpoints.
/// </para>
/// </remarks>
public sealed partial class SubsetIndex
{
    private readonly SlotList _slots;

    // Every distinct selector's table in declaration order (a repeated key set keeps its first selector),
    // and, for the request path, those whose keys all have a header mapping, with their key masks.
    private readonly SelectorTable[] _tables;
    private readonly SelectorTable[] _reachable;
    private readonly ulong[] _reachableMasks;
    private readonly HeaderMapping[] _mappings;
    private readonly Subset _any;
    private readonly Subset? _default;
    private readonly LoadBalancingPolicy _loadBalancing;
    private readonly FallbackPolicy _globalFallback;
    private readonly ConsistentHashPolicy? _consistentHash;
    private readonly bool _allEndpoints;
    private readonly LocalityLoadBalancing? _locality; // null when locality cannot change a pick under this policy
    private readonly bool _localityFailover;

    private ImmutableArray<Endpoint> _endpoints;
    private ImmutableArray<Subset> _subsets;
    private ImmutableArray<Endpoint> _unassigned;

    private SubsetIndex(RoutingPolicy policy, long generation, SlotList slots, SelectorTable[] tables, Subset any, Subset? @default)
    {
        Policy = policy;
        Generation = generation;
        _slots = slots;
        _tables = tables;
        _reachable = [.. tables.Where(static t => t.MappingIndexes is not null)];
        _reachableMasks = [.. _reachable.Select(static t => t.KeyMask)];
        _mappings = [.. policy.HeaderMappings];
        _any = any;
        _default = @default;
        _loadBalancing = policy.LoadBalancing;
        _globalFallback = policy.DynamicSubset.FallbackPolicy;
        _consistentHash = policy.ConsistentHash;
        _allEndpoints = policy.DynamicSubset.SubsetSelectors.IsEmpty;

        // Failover by locality needs outlier detection, as in Istio; distribute does not.
        _localityFailover = policy.OutlierDetection is not null;
        _locality = policy.Locality is { Enabled: true } locality && (_localityFailover || !locality.Distribute.IsEmpty) ? locality : null;
    }

    /// <summary>Gets the policy this snapshot was built with.</summary>
    public RoutingPolicy Policy { get; }

    /// <summary>Gets the snapshot's generation: 1 for a fresh build, one more for each derived snapshot.</summary>
    public long Generation { get; }

    /// <summary>Gets every endpoint, routable or not, ordered by address.</summary>
    public ImmutableArray<Endpoint> Endpoints => EndpointSlot.Endpoints(ref _endpoints, _slots);

    /// <summary>Gets how many endpoints the snapshot holds, routable or not, without making the <see cref="Endpoints"/> array.</summary>
    public int EndpointCount => _slots.Length;

    /// <summary>
    /// Gets every dynamic subset: grouped by selector in declaration order, then ordered by value. This is the
    /// reference page's subset table.
    /// </summary>
    public ImmutableArray<Subset> Subsets
    {
        get
        {
            if (_subsets.IsDefault)
            {
                var all = new List<Subset>();
                foreach (var table in _tables)
                {
                    var subsets = table.Subsets().ToArray();
                    Array.Sort(subsets, static (a, b) => CompareValues(a.Values, b.Values));
                    all.AddRange(subsets);
                }

                _subsets = [.. all];
            }

            return _subsets;
        }
    }

    /// <summary>
    /// Gets the default subset: every endpoint whose labels hold all pairs of <c>defaultSubset</c>, or
    /// <see langword="null"/> when <c>defaultSubset</c> is empty (DEFAULT_SUBSET then acts as ANY_ENDPOINT).
    /// </summary>
    public Subset? DefaultSubset => _default;

    /// <summary>Gets the endpoints that belong to no subset: they lack a key of every selector.</summary>
    public ImmutableArray<Endpoint> UnassignedEndpoints
    {
        get
        {
            if (_unassigned.IsDefault)
            {
                var unassigned = ImmutableArray.CreateBuilder<Endpoint>();
                foreach (ref readonly var slot in _slots)
                {
                    var endpoint = slot.Endpoint;
                    if (!_tables.Any(t => HasAllKeys(endpoint, t.Keys)))
                    {
                        unassigned.Add(endpoint);
                    }
                }

                _unassigned = unassigned.ToImmutable();
            }

            return _unassigned;
        }
    }

    /// <summary>Builds a snapshot with fresh live state.</summary>
    /// <param name="endpoints">The service's endpoints; addresses must be distinct.</param>
    /// <param name="policy">The routing policy.</param>
    /// <returns>The snapshot, generation 1.</returns>
    /// <exception cref="RoutingValidationException">An endpoint is null or an address repeats.</exception>
    public static SubsetIndex Build(IEnumerable<Endpoint> endpoints, RoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(policy);
        return Create(endpoints, policy, previous: null);
    }

    /// <summary>Builds the next snapshot from a whole new endpoint list, under the same policy.</summary>
    /// <param name="endpoints">The service's endpoints; addresses must be distinct.</param>
    /// <returns>The next snapshot.</returns>
    /// <exception cref="RoutingValidationException">An endpoint is null or an address repeats.</exception>
    public SubsetIndex Rebuild(IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return Create(endpoints, Policy, this);
    }

    /// <summary>Builds the next snapshot from a new endpoint list and a new policy at once, as a configuration reload does.</summary>
    /// <param name="endpoints">The service's endpoints; addresses must be distinct.</param>
    /// <param name="policy">The new policy.</param>
    /// <returns>The next snapshot.</returns>
    /// <exception cref="RoutingValidationException">An endpoint is null or an address repeats.</exception>
    public SubsetIndex Rebuild(IEnumerable<Endpoint> endpoints, RoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(policy);
        return Create(endpoints, policy, this);
    }

    /// <summary>Builds the next snapshot from the same endpoints under another policy.</summary>
    /// <param name="policy">The new policy.</param>
    /// <returns>The next snapshot.</returns>
    public SubsetIndex WithPolicy(RoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Create(Endpoints, policy, this);
    }

    /// <summary>Finds the subset named by exactly these pairs, for inspection.</summary>
    /// <param name="pairs">The pairs, for example <c>stage=dev, version=v1</c>.</param>
    /// <returns>The subset, or <see langword="null"/> when no endpoint forms it.</returns>
    public Subset? FindSubset(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var sorted = pairs.OrderBy(static p => p.Key, StringComparer.Ordinal).ToArray();
        var keys = Array.ConvertAll(sorted, static p => p.Key);
        foreach (var table in _tables)
        {
            if (table.Keys.AsSpan().SequenceEqual(keys))
            {
                return table.Find(Array.ConvertAll(sorted, static p => p.Value));
            }
        }

        return null;
    }

    internal static int CompareValues(ReadOnlySpan<string> a, ReadOnlySpan<string> b)
    {
        for (var i = 0; i < a.Length && i < b.Length; i++)
        {
            var c = string.CompareOrdinal(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    private static bool HasAllKeys(Endpoint endpoint, string[] keys)
    {
        foreach (var key in keys)
        {
            if (!endpoint.TryGetValue(key, out _))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryGetValues(Endpoint endpoint, string[] keys, string[] values)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            if (!endpoint.TryGetValue(keys[i], out var value))
            {
                return false;
            }

            values[i] = value;
        }

        return true;
    }

    private static bool MatchesDefault(Endpoint endpoint, LabelSet pairs)
    {
        foreach (var (key, value) in pairs)
        {
            if (!endpoint.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes the snapshot as one JSON object, the shape <c>dynsubset subsets -o json</c> and the admin view share:
    /// host, generation, policy summary, subsets with their endpoints, default subset, unassigned endpoints.
    /// </summary>
    /// <param name="writer">The writer.</param>
    /// <param name="service">The service's name, written as <c>host</c>.</param>
    public void WriteJson(Utf8JsonWriter writer, string service) => SnapshotJson.WriteService(writer, service, this);
}
