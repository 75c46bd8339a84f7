namespace DynamicSubset.Routing;

/// <summary>Istio's <c>Headers</c> of a route or a destination: what changes on the request before it is sent, and on the response before it is returned.</summary>
public sealed class HttpHeaderRules
{
    /// <summary>Gets or initializes the operations on the request, or <see langword="null"/>.</summary>
    public HeaderOperations? Request { get; init; }

    /// <summary>Gets or initializes the operations on the response, or <see langword="null"/>.</summary>
    public HeaderOperations? Response { get; init; }
}
