namespace DynamicSubset.Routing;

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
