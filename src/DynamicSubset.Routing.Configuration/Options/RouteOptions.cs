using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>One entry of the DestinationRule's <c>subsets</c>: a static subset of the service.</summary>
public sealed class SubsetOptions
{
    /// <summary>Gets or sets the subset's name, which routes name in <c>destination.subset</c>.</summary>
    [Required]
    public string? Name { get; set; }

    /// <summary>Gets the labels an endpoint needs, all of them, to be in the subset.</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets the subset's own <c>trafficPolicy</c>; each field it sets replaces the service's.</summary>
    public SubsetTrafficPolicyOptions? TrafficPolicy { get; set; }
}
