using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>The requests of one service replayed against the configuration before and after an edit.</summary>
public sealed class ReplaySummary
{
    internal ReplaySummary(string host, long total, long moved, ImmutableArray<RequestTransition> transitions)
    {
        Host = host;
        Total = total;
        Moved = moved;
        Transitions = transitions;
    }

    /// <summary>Gets the service's name.</summary>
    public string Host { get; }

    /// <summary>Gets how many requests were replayed.</summary>
    public long Total { get; }

    /// <summary>
    /// Gets how many requests go somewhere else after the edit: another destination host or subset, another dynamic
    /// subset, another fallback, or an error instead of an endpoint (or the reverse). The endpoint load balancing picks
    /// is not a move.
    /// </summary>
    public long Moved { get; }

    /// <summary>Gets the moves by where they went before and after, largest first.</summary>
    public ImmutableArray<RequestTransition> Transitions { get; }
}
