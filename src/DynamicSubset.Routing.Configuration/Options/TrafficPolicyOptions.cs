using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration;

/// <summary>The DestinationRule's <c>trafficPolicy</c>.</summary>
public sealed class TrafficPolicyOptions
{
    /// <summary>Gets or sets <c>loadBalancer</c>.</summary>
    [Required]
    [ValidateObjectMembers]
    public LoadBalancerOptions LoadBalancer { get; set; } = new();

    /// <summary>Gets or sets <c>outlierDetection</c>; <see langword="null"/> (the default) for none.</summary>
    public OutlierDetectionOptions? OutlierDetection { get; set; }
}
