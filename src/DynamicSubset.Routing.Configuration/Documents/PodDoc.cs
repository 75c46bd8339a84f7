using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record PodDoc(MeshDocument Info, Dictionary<string, string> Labels, List<string> Ips, bool Ready, List<(string? Name, int Port)> ContainerPorts, YamlNode Node);
