using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>A dynamic subset that an edit forms, removes or changes, with the endpoints that join and leave it.</summary>
public sealed class SubsetChange
{
    internal SubsetChange(ImmutableArray<KeyValuePair<string, string>> pairs, ImmutableArray<string> added, ImmutableArray<string> removed)
    {
        Pairs = pairs;
        EndpointsAdded = added;
        EndpointsRemoved = removed;
    }

    /// <summary>Gets the subset's key values, in the selector's key order.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Pairs { get; }

    /// <summary>Gets the endpoints (<c>IP:PORT</c>) that join the subset: all of them for a subset that forms.</summary>
    public ImmutableArray<string> EndpointsAdded { get; }

    /// <summary>Gets the endpoints (<c>IP:PORT</c>) that leave the subset: all of them for a subset that goes.</summary>
    public ImmutableArray<string> EndpointsRemoved { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", Pairs.Select(static p => $"{p.Key}={p.Value}"));
}
