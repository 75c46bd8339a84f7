using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record SubsetDoc(string Name, Dictionary<string, string> Labels, TrafficPolicyDoc? Policy, YamlNode Node, string Path);
