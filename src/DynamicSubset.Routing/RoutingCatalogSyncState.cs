namespace DynamicSubset.Routing;

/// <summary>Whether a catalog's routing is in sync with its source.</summary>
public enum RoutingCatalogSyncState
{
    /// <summary>The first state has not been read yet; nothing is published.</summary>
    Syncing = 0,

    /// <summary>The catalog serves its source's latest accepted state.</summary>
    Synced = 1,

    /// <summary>The source cannot be reached; the catalog serves the last state it had.</summary>
    Stale = 2,
}
