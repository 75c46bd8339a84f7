namespace DynamicSubset.Routing.Configuration;

/// <summary>The DestinationRule's <c>trafficPolicy.loadBalancer.dynamicSubset</c>.</summary>
public sealed class DynamicSubsetOptions
{
    /// <summary>Gets the selectors; at least one.</summary>
    public IList<SubsetSelectorOptions> SubsetSelectors { get; } = [];

    /// <summary>Gets or sets the global <c>fallbackPolicy</c>; <c>NO_FALLBACK</c> when unset.</summary>
    public string? FallbackPolicy { get; set; }

    /// <summary>Gets the <c>defaultSubset</c> pairs.</summary>
    public IDictionary<string, string> DefaultSubset { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
