namespace DynamicSubset.Routing.Configuration;

/// <summary>Every service's next snapshot, built to the side by <see cref="MeshServiceResolvers.Build"/> and not yet published.</summary>
public sealed class MeshServiceBuild
{
    internal MeshServiceBuild(List<(MeshService Service, SubsetResolver? Resolver, SubsetIndex Index)> items) => Items = items;

    /// <summary>Gets how many services were built.</summary>
    public int Count => Items.Count;

    internal List<(MeshService Service, SubsetResolver? Resolver, SubsetIndex Index)> Items { get; }
}
