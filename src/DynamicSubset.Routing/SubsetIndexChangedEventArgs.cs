namespace DynamicSubset.Routing;

/// <summary>Describes a published snapshot change.</summary>
/// <param name="previous">The snapshot that was replaced.</param>
/// <param name="current">The snapshot that was published.</param>
public sealed class SubsetIndexChangedEventArgs(SubsetIndex previous, SubsetIndex current) : EventArgs
{
    /// <summary>Gets the snapshot that was replaced.</summary>
    public SubsetIndex Previous { get; } = previous;

    /// <summary>Gets the snapshot that was published.</summary>
    public SubsetIndex Current { get; } = current;
}
