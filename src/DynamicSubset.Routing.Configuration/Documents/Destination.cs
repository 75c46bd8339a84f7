using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record Destination(string Host, string? Subset, int? Port, long Weight, YamlNode Node, string Path)
{
    public YamlNode? SubsetNode { get; init; }

    /// <summary>Gets the destination's own header operations (<c>route[].headers</c>), or <see langword="null"/>.</summary>
    public HttpHeaderRules? Headers { get; init; }
}
