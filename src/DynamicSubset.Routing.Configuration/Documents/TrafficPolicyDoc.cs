using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>A trafficPolicy as written: which top-level fields it sets, for Istio's subset merge (a subset's field replaces the rule's).</summary>
internal sealed record TrafficPolicyDoc(
    bool HasLoadBalancer, LoadBalancingPolicy? Simple, DynamicSubsetPolicy? DynamicSubset, MappingNode? DynamicSubsetNode, ConsistentHashPolicy? ConsistentHash,
    bool HasOutlierDetection, OutlierDetectionPolicy? OutlierDetection, bool HasConnectionPool = false, bool H2Upgrade = false, bool UseClientProtocol = false)
{
    public static TrafficPolicyDoc Empty { get; } = new(false, null, null, null, null, false, null);

    /// <summary>Gets the connectionPool's limits (circuit breaking), or <see langword="null"/>.</summary>
    public ConnectionPoolPolicy? Limits { get; init; }

    /// <summary>Gets the loadBalancer's <c>localityLbSetting</c>, or <see langword="null"/> for the mesh's default.</summary>
    public LocalityLoadBalancing? Locality { get; init; }

    /// <summary>Gets the <c>portLevelSettings</c>, by service port number.</summary>
    public Dictionary<int, TrafficPolicyDoc> PortLevel { get; init; } = [];

    /// <summary>This policy for one service port: its port-level settings' fields replace this one's, as Istio merges them.</summary>
    public TrafficPolicyDoc ForPort(int? port) =>
        port is { } p && PortLevel.TryGetValue(p, out var settings) ? MergedWith(settings) with { PortLevel = PortLevel } : this;

    /// <summary>
    /// The version a port of <paramref name="portProtocol"/> is sent requests in under this policy, as Istio decides it:
    /// <c>useClientProtocol</c> first, then <c>h2UpgradePolicy: UPGRADE</c> for an HTTP/1.1 port.
    /// </summary>
    public UpstreamProtocol Protocol(UpstreamProtocol portProtocol) =>
        UseClientProtocol ? UpstreamProtocol.ClientProtocol
        : H2Upgrade && portProtocol == UpstreamProtocol.Http1 ? UpstreamProtocol.Http2
        : portProtocol;

    /// <summary>Istio's merge: each top-level field the subset sets replaces the rule's.</summary>
    public TrafficPolicyDoc MergedWith(TrafficPolicyDoc? subset) => subset is null ? this : new(
        HasLoadBalancer || subset.HasLoadBalancer,
        subset.HasLoadBalancer ? subset.Simple : Simple,
        subset.HasLoadBalancer ? subset.DynamicSubset : DynamicSubset,
        subset.HasLoadBalancer ? subset.DynamicSubsetNode : DynamicSubsetNode,
        subset.HasLoadBalancer ? subset.ConsistentHash : ConsistentHash,
        HasOutlierDetection || subset.HasOutlierDetection,
        subset.HasOutlierDetection ? subset.OutlierDetection : OutlierDetection,
        HasConnectionPool || subset.HasConnectionPool,
        subset.HasConnectionPool ? subset.H2Upgrade : H2Upgrade,
        subset.HasConnectionPool ? subset.UseClientProtocol : UseClientProtocol)
    {
        Limits = subset.HasConnectionPool ? subset.Limits : Limits,
        Locality = subset.HasLoadBalancer ? subset.Locality : Locality,
    };
}
