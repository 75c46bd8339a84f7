using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record WorkloadDoc(
    MeshDocument Info, string Address, Dictionary<string, string> Labels, Dictionary<string, int> Ports, long Weight, YamlNode Node, string Path);
