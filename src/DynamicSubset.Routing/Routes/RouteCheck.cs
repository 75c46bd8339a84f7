namespace DynamicSubset.Routing;

/// <summary>How one route of <c>http[]</c> fared against a request, for explanations.</summary>
/// <param name="Label">The route's name, else its index as text.</param>
/// <param name="Matched">Whether the route matched.</param>
/// <param name="Reason">For a route that did not match, the first failing condition of each block; for the one that did, which block.</param>
public readonly record struct RouteCheck(string Label, bool Matched, string Reason);
