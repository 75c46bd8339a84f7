using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

internal sealed record HttpRouteDoc(
    int Index, string? Name, List<HeaderMapping> Mappings, YamlNode? MappingsNode, List<HttpRouteMatch> Matches, List<Destination> Destinations,
    RouteRetryPolicy? Retries, TimeSpan? Timeout, YamlNode Node, string Path)
{
    public string Label => Name ?? Index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Gets the VirtualService whose routes this one takes in (<c>delegate</c>), or <see langword="null"/>.</summary>
    public (string Name, string Namespace)? Delegate { get; init; }

    /// <summary>Gets what the route does besides choosing a destination.</summary>
    public HttpRouteActions Actions { get; init; } = new();
}
