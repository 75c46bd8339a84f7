namespace DynamicSubset.Routing;

/// <summary>A catalog's sync state and its last rejected update.</summary>
/// <param name="SyncState">Whether the catalog is in sync with its source.</param>
/// <param name="LastError">The last rejected update since the last publish, or <see langword="null"/>.</param>
public sealed record RoutingCatalogStatus(RoutingCatalogSyncState SyncState, RoutingCatalogError? LastError);
