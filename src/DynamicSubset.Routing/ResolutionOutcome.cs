namespace DynamicSubset.Routing;

/// <summary>What a resolution found.</summary>
public enum ResolutionOutcome
{
    /// <summary>The criteria matched a subset with a routable endpoint.</summary>
    Matched = 0,

    /// <summary>No subset matched, and a fallback policy chose the endpoint.</summary>
    Fallback = 1,

    /// <summary>No endpoint: the request must fail with <c>no healthy upstream</c> (HTTP 503).</summary>
    NoHealthyUpstream = 2,

    /// <summary>The service has VirtualService routes and none matches: the request must fail with <c>no route</c> (HTTP 404).</summary>
    NoRoute = 3,

    /// <summary>The route answers the request itself (a <c>redirect</c> or a <c>directResponse</c>): no endpoint, no fallback.</summary>
    Answered = 4,
}
