using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed class DestinationRuleDoc(MeshDocument info, string host, YamlNode hostNode, TrafficPolicyDoc policy, List<SubsetDoc> subsets)
{
    public MeshDocument Info { get; } = info;

    public string Host { get; } = host;

    public YamlNode HostNode { get; } = hostNode;

    public TrafficPolicyDoc TrafficPolicy { get; } = policy;

    /// <summary>Gets the dynamic subset policy, or null when the rule has none (its host is then routed as plain Istio does).</summary>
    public DynamicSubsetPolicy? Policy => TrafficPolicy.DynamicSubset;

    public MappingNode? DynamicSubsetNode => TrafficPolicy.DynamicSubsetNode;

    public List<SubsetDoc> Subsets { get; } = subsets;

    public string Fqdn => HostNames.ToFqdn(Host, Info.Namespace);
}
