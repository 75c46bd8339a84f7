namespace DynamicSubset.Routing.Configuration;

/// <summary>One entry of <c>subsetSelectors</c>.</summary>
public sealed class SubsetSelectorOptions
{
    /// <summary>Gets the keys; at least one.</summary>
    public IList<string> Keys { get; } = [];

    /// <summary>Gets or sets the selector's <c>fallbackPolicy</c>.</summary>
    public string? FallbackPolicy { get; set; }

    /// <summary>Gets <c>fallbackKeysSubset</c>, for <c>KEYS_SUBSET</c>.</summary>
    public IList<string> FallbackKeysSubset { get; } = [];
}
