using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record ServiceDoc(MeshDocument Info, Dictionary<string, string>? Selector, List<ServicePort> Ports, YamlNode Node)
{
    public string Fqdn => HostNames.ToFqdn(Info.Name, Info.Namespace);
}
