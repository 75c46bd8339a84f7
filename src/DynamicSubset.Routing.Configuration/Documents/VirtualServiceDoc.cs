using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record VirtualServiceDoc(MeshDocument Info, List<string> Hosts, List<HttpRouteDoc> Http, YamlNode? HostsNode);
