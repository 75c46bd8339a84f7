using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>The DestinationRule's <c>trafficPolicy.loadBalancer</c>.</summary>
public sealed class LoadBalancerOptions
{
    /// <summary>Gets or sets <c>simple</c>: <c>LEAST_REQUEST</c> (the default), <c>ROUND_ROBIN</c> or <c>RANDOM</c>.</summary>
    public string? Simple { get; set; }

    /// <summary>Gets or sets <c>dynamicSubset</c>; with no selectors (and no fallback or default subset), the service has none and routes as plain Istio does.</summary>
    [Required]
    public DynamicSubsetOptions DynamicSubset { get; set; } = new();

    /// <summary>Gets or sets <c>consistentHash</c>: session affinity; not with <see cref="Simple"/>.</summary>
    public ConsistentHashOptions? ConsistentHash { get; set; }

    /// <summary>Gets or sets <c>localityLbSetting</c>; <see langword="null"/> is the mesh's default (failover by locality under outlier detection).</summary>
    public LocalityLbSettingOptions? LocalityLbSetting { get; set; }
}
