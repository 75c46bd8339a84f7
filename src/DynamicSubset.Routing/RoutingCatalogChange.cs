namespace DynamicSubset.Routing;

/// <summary>What changed in a <see cref="RoutingCatalog"/>.</summary>
public enum RoutingCatalogChange
{
    /// <summary>A new snapshot was published.</summary>
    Published = 0,

    /// <summary>An update was rejected; the snapshot is unchanged, and the status holds the error.</summary>
    Rejected = 1,

    /// <summary>The sync state changed; the snapshot is unchanged.</summary>
    SyncState = 2,
}
