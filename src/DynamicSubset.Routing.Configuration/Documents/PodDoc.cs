using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// A pod as the compiler reads it. Its labels are a <see cref="LabelSet"/> when they make one, so the endpoints made
/// from the pod share them.
/// </summary>
internal sealed record PodDoc(MeshDocument Info, IReadOnlyDictionary<string, string> Labels, List<string> Ips, bool Ready, List<(string? Name, int Port)> ContainerPorts, YamlNode Node);
