using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// What an edit changes in one service's topology: subsets formed and gone, endpoints that move between subsets or
/// become (or stop being) routable, and the policy around them (default subset, fallbacks, header mappings, routes).
/// </summary>
public sealed class ServiceDiff
{
    internal ServiceDiff(string host, bool inBefore, bool inAfter)
    {
        Host = host;
        InBefore = inBefore;
        InAfter = inAfter;
    }

    /// <summary>Gets the service's name.</summary>
    public string Host { get; }

    /// <summary>Gets a value indicating whether the service exists before the edit.</summary>
    public bool InBefore { get; }

    /// <summary>Gets a value indicating whether the service exists after the edit.</summary>
    public bool InAfter { get; }

    /// <summary>Gets the subsets that form only after the edit, each with its endpoints.</summary>
    public ImmutableArray<SubsetChange> SubsetsAdded { get; internal init; } = [];

    /// <summary>Gets the subsets that exist only before the edit, each with its endpoints.</summary>
    public ImmutableArray<SubsetChange> SubsetsRemoved { get; internal init; } = [];

    /// <summary>Gets the subsets on both sides whose members change.</summary>
    public ImmutableArray<SubsetChange> SubsetsChanged { get; internal init; } = [];

    /// <summary>Gets the endpoints (<c>IP:PORT</c>) routable after the edit and not before.</summary>
    public ImmutableArray<string> BecomeRoutable { get; internal init; } = [];

    /// <summary>Gets the endpoints (<c>IP:PORT</c>) routable before the edit and not after.</summary>
    public ImmutableArray<string> StopBeingRoutable { get; internal init; } = [];

    /// <summary>
    /// Gets the policy's changes, one sentence each (<c>fallbackPolicy: NO_FALLBACK -&gt; ANY_ENDPOINT</c>): the default
    /// subset, the fallback policies, the subset selectors, the header mappings and the routes (their order and
    /// destinations; a change to a route's matches shows in the requests it moves).
    /// </summary>
    public ImmutableArray<string> PolicyChanges { get; internal init; } = [];

    /// <summary>Gets a value indicating whether anything changes.</summary>
    public bool HasChanges =>
        InBefore != InAfter || !SubsetsAdded.IsEmpty || !SubsetsRemoved.IsEmpty || !SubsetsChanged.IsEmpty ||
        !BecomeRoutable.IsEmpty || !StopBeingRoutable.IsEmpty || !PolicyChanges.IsEmpty;
}
