using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record ServicePort(int Port, string? Name, int? TargetPort, string? TargetPortName, string? AppProtocol, YamlNode Node);
