using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>Requests that went one way before an edit and another way after it: how many, and up to three of them.</summary>
public sealed class RequestTransition
{
    internal RequestTransition(string from, string to, long count, ImmutableArray<string> examples)
    {
        From = from;
        To = to;
        Count = count;
        Examples = examples;
    }

    /// <summary>Gets where the requests went before: <c>stage=dev, version=v2</c>, <c>fallback ANY_ENDPOINT</c>, <c>no healthy upstream</c>, <c>no route</c>.</summary>
    public string From { get; }

    /// <summary>Gets where the requests go after, in the same words.</summary>
    public string To { get; }

    /// <summary>Gets how many requests.</summary>
    public long Count { get; }

    /// <summary>Gets up to three of the requests, as the caller described them.</summary>
    public ImmutableArray<string> Examples { get; }
}
