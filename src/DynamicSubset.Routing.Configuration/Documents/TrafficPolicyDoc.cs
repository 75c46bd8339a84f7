using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>A trafficPolicy as written: which top-level fields it sets, for Istio's subset merge (a subset's field replaces the rule's).</summary>
internal sealed record TrafficPolicyDoc(
    bool HasLoadBalancer, LoadBalancingPolicy? Simple, DynamicSubsetPolicy? DynamicSubset, MappingNode? DynamicSubsetNode, ConsistentHashPolicy? ConsistentHash,
    bool HasOutlierDetection, OutlierDetectionPolicy? OutlierDetection)
{
    public static TrafficPolicyDoc Empty { get; } = new(false, null, null, null, null, false, null);

    /// <summary>Istio's merge: each top-level field the subset sets replaces the rule's.</summary>
    public TrafficPolicyDoc MergedWith(TrafficPolicyDoc? subset) => subset is null ? this : new(
        HasLoadBalancer || subset.HasLoadBalancer,
        subset.HasLoadBalancer ? subset.Simple : Simple,
        subset.HasLoadBalancer ? subset.DynamicSubset : DynamicSubset,
        subset.HasLoadBalancer ? subset.DynamicSubsetNode : DynamicSubsetNode,
        subset.HasLoadBalancer ? subset.ConsistentHash : ConsistentHash,
        HasOutlierDetection || subset.HasOutlierDetection,
        subset.HasOutlierDetection ? subset.OutlierDetection : OutlierDetection);
}
