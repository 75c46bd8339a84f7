using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// Istio's <c>loadBalancer.localityLbSetting</c>: how the caller's locality shapes its picks. It applies only where the
/// caller's locality is known (<see cref="RouteRequest.SourceLocality"/>).
/// </summary>
/// <remarks>
/// <para>
/// With a <see cref="Distribute"/> entry for the caller, each share of its requests goes to the endpoints within that
/// entry's pattern. Otherwise, when the policy has outlier detection (Istio applies failover only then), endpoints are
/// ranked in priorities: the caller's sub-zone, its zone, its region, the <see cref="Failover"/> region, then the rest
/// (or by <see cref="FailoverPriority"/> labels); requests stay in the best priority while enough of it is healthy.
/// </para>
/// <para>A level's share is scaled by its healthy fraction times 1.4, Envoy's overprovisioning factor, as in the mesh.</para>
/// </remarks>
public sealed record LocalityLoadBalancing
{
    /// <summary>The mesh's default: enabled, with no distribute, failover or failoverPriority.</summary>
    public static readonly LocalityLoadBalancing Default = new();

    /// <summary>Gets or initializes a value indicating whether locality load balancing applies; <c>enabled: false</c> turns it off.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Gets or initializes the <c>distribute</c> entries; the first whose <c>from</c> the caller is within applies.</summary>
    public ImmutableArray<LocalityDistribution> Distribute { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the <c>failover</c> entries (region to region).</summary>
    public ImmutableArray<LocalityFailover> Failover { get => field.IsDefault ? [] : field; init; }

    /// <summary>
    /// Gets or initializes the <c>failoverPriority</c> labels, in order: an endpoint that shares the first n of them with
    /// the caller ranks above one that shares fewer. Topology labels compare with the caller's locality, others with its
    /// labels (<see cref="RouteRequest.SourceLabels"/>).
    /// </summary>
    public ImmutableArray<string> FailoverPriority { get => field.IsDefault ? [] : field; init; }
}
