namespace DynamicSubset.Routing.Configuration;

/// <summary>A static subset's <c>trafficPolicy</c>: a field left unset keeps the service's.</summary>
public sealed class SubsetTrafficPolicyOptions
{
    /// <summary>Gets or sets <c>loadBalancer</c>; when set, it replaces the service's whole <c>loadBalancer</c>, as in Istio.</summary>
    public LoadBalancerOptions? LoadBalancer { get; set; }

    /// <summary>Gets or sets <c>outlierDetection</c>; when set, it replaces the service's.</summary>
    public OutlierDetectionOptions? OutlierDetection { get; set; }
}
