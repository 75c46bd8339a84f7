using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record Destination(string Host, string? Subset, int? Port, long Weight, YamlNode Node, string Path)
{
    public YamlNode? SubsetNode { get; init; }
}
