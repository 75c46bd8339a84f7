namespace DynamicSubset.Routing;

/// <summary>A catalog's source compiled twice, apart from what serves: as it is, and with an edit applied (<see cref="RoutingCatalog.TryPreview"/>).</summary>
/// <param name="Before">The source as it is.</param>
/// <param name="After">The source with the edit applied.</param>
public sealed record RoutingCatalogPreview(RoutingCatalogSnapshot Before, RoutingCatalogSnapshot After);
