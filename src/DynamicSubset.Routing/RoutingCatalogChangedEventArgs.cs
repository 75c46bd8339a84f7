namespace DynamicSubset.Routing;

/// <summary>Describes a change of a <see cref="RoutingCatalog"/>.</summary>
/// <param name="previous">The snapshot before.</param>
/// <param name="current">The snapshot now; the same as <paramref name="previous"/> unless one was published.</param>
/// <param name="change">What changed.</param>
public sealed class RoutingCatalogChangedEventArgs(RoutingCatalogSnapshot previous, RoutingCatalogSnapshot current, RoutingCatalogChange change) : EventArgs
{
    /// <summary>Gets the snapshot before the change.</summary>
    public RoutingCatalogSnapshot Previous { get; } = previous;

    /// <summary>Gets the snapshot now.</summary>
    public RoutingCatalogSnapshot Current { get; } = current;

    /// <summary>Gets what changed.</summary>
    public RoutingCatalogChange Change { get; } = change;
}
