using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record ServiceEntryDoc(
    MeshDocument Info, List<string> Hosts, List<ServiceEntryPort> Ports, List<WorkloadDoc> Endpoints, Dictionary<string, string>? WorkloadSelector, YamlNode Node);
