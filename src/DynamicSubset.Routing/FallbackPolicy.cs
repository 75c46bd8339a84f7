namespace DynamicSubset.Routing;

/// <summary>What happens when a request matches no subset with a routable endpoint.</summary>
public enum FallbackPolicy
{
    /// <summary>No endpoint: the result is <c>no healthy upstream</c>. The default.</summary>
    NoFallback = 0,

    /// <summary>Any routable endpoint of the service, including endpoints that belong to no subset.</summary>
    AnyEndpoint = 1,

    /// <summary>
    /// The routable endpoints whose labels contain every pair of the default subset; with an empty default
    /// subset, the same as <see cref="AnyEndpoint"/>.
    /// </summary>
    DefaultSubset = 2,

    /// <summary>
    /// Selector only (an extension from Envoy): match again with the criteria cut down to the selector's
    /// <see cref="SubsetSelector.FallbackKeysSubset"/>.
    /// </summary>
    KeysSubset = 3,
}

/// <summary>Where the fallback policy that was applied came from.</summary>
public enum FallbackScope
{
    /// <summary>The global <c>fallbackPolicy</c> of <c>dynamicSubset</c>.</summary>
    Global = 0,

    /// <summary>The <c>fallbackPolicy</c> of the selector whose key set equals the criteria's key set.</summary>
    Selector = 1,
}

/// <summary>How one endpoint is chosen within the chosen set (<c>trafficPolicy.loadBalancer.simple</c>).</summary>
public enum LoadBalancingPolicy
{
    /// <summary>Power of two choices on in-flight requests, weighted. The default, as in Istio.</summary>
    LeastRequest = 0,

    /// <summary>Weighted rotation; each subset keeps its own position.</summary>
    RoundRobin = 1,

    /// <summary>Weighted random choice.</summary>
    Random = 2,
}

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
}
