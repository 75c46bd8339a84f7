using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// Everything that decides a request's endpoint for one service, apart from the endpoints: the
/// DestinationRule's dynamic subsets and load balancer, and the VirtualService's header mappings.
/// </summary>
public sealed class RoutingPolicy
{
    /// <summary>The most header mappings one policy may have.</summary>
    public const int MaxHeaderMappings = 64;

    /// <summary>Initializes a new instance of the <see cref="RoutingPolicy"/> class.</summary>
    /// <param name="dynamicSubset">The dynamic subset policy.</param>
    /// <param name="headerMappings">The header-to-key mappings, in declaration order.</param>
    /// <param name="loadBalancing">How one endpoint is chosen within the chosen set.</param>
    /// <exception cref="RoutingValidationException">The policy is invalid; the message names the field.</exception>
    public RoutingPolicy(
        DynamicSubsetPolicy dynamicSubset,
        IEnumerable<HeaderMapping> headerMappings,
        LoadBalancingPolicy loadBalancing = LoadBalancingPolicy.LeastRequest)
    {
        ArgumentNullException.ThrowIfNull(dynamicSubset);
        ArgumentNullException.ThrowIfNull(headerMappings);
        var mappings = headerMappings.ToImmutableArray();
        if (mappings.Length > MaxHeaderMappings)
        {
            throw new RoutingValidationException(
                "headerToDynamicSubsetKey", $"has {mappings.Length} entries; at most {MaxHeaderMappings} are supported", nameof(headerMappings));
        }

        for (var i = 0; i < mappings.Length; i++)
        {
            if (mappings[i] is null)
            {
                throw new RoutingValidationException($"headerToDynamicSubsetKey[{i}]", "mapping must not be null", nameof(headerMappings));
            }

            for (var j = 0; j < i; j++)
            {
                if (string.Equals(mappings[j].Key, mappings[i].Key, StringComparison.Ordinal))
                {
                    throw new RoutingValidationException(
                        $"headerToDynamicSubsetKey[{i}].key",
                        $"key '{mappings[i].Key}' is already mapped by headerToDynamicSubsetKey[{j}] (header '{mappings[j].Header}')",
                        nameof(headerMappings));
                }
            }
        }

        if (!Enum.IsDefined(loadBalancing))
        {
            throw new RoutingValidationException("loadBalancer.simple", $"unknown value '{loadBalancing}'", nameof(loadBalancing));
        }

        DynamicSubset = dynamicSubset;
        HeaderMappings = mappings;
        LoadBalancing = loadBalancing;
    }

    /// <summary>Gets the dynamic subset policy.</summary>
    public DynamicSubsetPolicy DynamicSubset { get; }

    /// <summary>Gets the header-to-key mappings, in declaration order.</summary>
    public ImmutableArray<HeaderMapping> HeaderMappings { get; }

    /// <summary>Gets the in-subset load-balancing policy.</summary>
    /// <value>Defaults to <see cref="LoadBalancingPolicy.LeastRequest"/>.</value>
    public LoadBalancingPolicy LoadBalancing { get; }

    /// <summary>Gets or initializes the outlier detection: which failing endpoints leave the pick sets, and for how long.</summary>
    /// <value>Defaults to <see langword="null"/>: no endpoint is ejected, as in Istio without <c>outlierDetection</c>.</value>
    public OutlierDetectionPolicy? OutlierDetection { get; init; }

    /// <summary>
    /// Gets or initializes session affinity: a request that carries the policy's key goes to the endpoint of the chosen
    /// set that the key hashes to; a request without it is balanced by <see cref="LoadBalancing"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no affinity.</value>
    public ConsistentHashPolicy? ConsistentHash { get; init; }

    /// <summary>
    /// Gets or initializes the locality load balancing (<c>loadBalancer.localityLbSetting</c>), which applies to requests
    /// whose caller's locality is known.
    /// </summary>
    /// <value>Defaults to <see cref="LocalityLoadBalancing.Default"/>, the mesh's: enabled, failover by locality under outlier detection.</value>
    public LocalityLoadBalancing Locality { get => field ?? LocalityLoadBalancing.Default; init => field = value ?? throw new ArgumentNullException(nameof(value)); }

    /// <summary>
    /// Whether another policy routes exactly as this one: the same selectors (keys, fallbacks, keys subsets), global
    /// fallback and default subset, header mappings in order, load balancer, outlier detection, affinity and locality.
    /// A source compares a reloaded policy with the serving one, to keep a service's snapshot (its generation, its
    /// live state) when nothing of it changed.
    /// </summary>
    /// <param name="other">The other policy.</param>
    /// <returns><see langword="true"/> if every field is equal.</returns>
    public bool IsEquivalentTo(RoutingPolicy other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        return LoadBalancing == other.LoadBalancing &&
            Equals(ConsistentHash, other.ConsistentHash) &&
            SameOutlierDetection(OutlierDetection, other.OutlierDetection) &&
            SameLocality(Locality, other.Locality) &&
            HeaderMappings.SequenceEqual(other.HeaderMappings, static (a, b) => a.Header == b.Header && a.Key == b.Key && a.DefaultValue == b.DefaultValue) &&
            SameDynamicSubset(DynamicSubset, other.DynamicSubset);
    }

    private static bool SameDynamicSubset(DynamicSubsetPolicy a, DynamicSubsetPolicy b) =>
        ReferenceEquals(a, b) ||
        (a.FallbackPolicy == b.FallbackPolicy &&
         a.DefaultSubsetLabels.Equals(b.DefaultSubsetLabels) &&
         a.SubsetSelectors.SequenceEqual(b.SubsetSelectors, static (x, y) =>
             x.FallbackPolicy == y.FallbackPolicy && x.Keys.SequenceEqual(y.Keys) && x.FallbackKeysSubset.SequenceEqual(y.FallbackKeysSubset)));

    private static bool SameOutlierDetection(OutlierDetectionPolicy? a, OutlierDetectionPolicy? b) =>
        ReferenceEquals(a, b) ||
        (a is not null && b is not null &&
         a.Consecutive5xxErrors == b.Consecutive5xxErrors && a.ConsecutiveGatewayErrors == b.ConsecutiveGatewayErrors &&
         a.Interval == b.Interval && a.BaseEjectionTime == b.BaseEjectionTime &&
         a.MaxEjectionPercent == b.MaxEjectionPercent && a.MinHealthPercent == b.MinHealthPercent);

    private static bool SameLocality(LocalityLoadBalancing a, LocalityLoadBalancing b) =>
        ReferenceEquals(a, b) ||
        (a.Enabled == b.Enabled &&
         a.Failover.SequenceEqual(b.Failover) &&
         a.FailoverPriority.SequenceEqual(b.FailoverPriority) &&
         a.Distribute.SequenceEqual(b.Distribute, static (x, y) => x.From == y.From && x.To.SequenceEqual(y.To)));
}
