using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// The <c>dynamicSubset</c> block of a DestinationRule: the selectors, the global fallback policy, and the
/// default subset.
/// </summary>
public sealed class DynamicSubsetPolicy
{
    /// <summary>Initializes a new instance of the <see cref="DynamicSubsetPolicy"/> class.</summary>
    /// <param name="subsetSelectors">The selectors, in declaration order; at least one.</param>
    /// <param name="fallbackPolicy">
    /// The global fallback policy. <see cref="Routing.FallbackPolicy.KeysSubset"/> is a selector-only policy and is rejected here.
    /// </param>
    /// <param name="defaultSubset">The pairs that define the default subset; <see langword="null"/> or empty for none.</param>
    /// <exception cref="RoutingValidationException">The policy is invalid; the message names the field.</exception>
    public DynamicSubsetPolicy(
        IEnumerable<SubsetSelector> subsetSelectors,
        FallbackPolicy fallbackPolicy = FallbackPolicy.NoFallback,
        IEnumerable<KeyValuePair<string, string>>? defaultSubset = null)
    {
        ArgumentNullException.ThrowIfNull(subsetSelectors);
        var selectors = subsetSelectors.ToImmutableArray();
        for (var i = 0; i < selectors.Length; i++)
        {
            if (selectors[i] is null)
            {
                throw new RoutingValidationException($"subsetSelectors[{i}]", "selector must not be null", nameof(subsetSelectors));
            }
        }

        if (selectors.IsEmpty)
        {
            throw new RoutingValidationException("subsetSelectors", "at least one selector is needed", nameof(subsetSelectors));
        }

        if (!Enum.IsDefined(fallbackPolicy))
        {
            throw new RoutingValidationException("fallbackPolicy", $"unknown value '{fallbackPolicy}'", nameof(fallbackPolicy));
        }

        if (fallbackPolicy == FallbackPolicy.KeysSubset)
        {
            throw new RoutingValidationException(
                "fallbackPolicy", "KEYS_SUBSET is a selector policy; the global policy must be NO_FALLBACK, ANY_ENDPOINT or DEFAULT_SUBSET", nameof(fallbackPolicy));
        }

        var defaults = LabelSet.Create(defaultSubset, nameof(defaultSubset));
        foreach (var key in defaults.Keys)
        {
            BuiltInKeys.ValidateKey(key, $"defaultSubset['{key}']", nameof(defaultSubset));
        }

        SubsetSelectors = selectors;
        FallbackPolicy = fallbackPolicy;
        DefaultSubsetLabels = defaults;
    }

    private DynamicSubsetPolicy()
    {
        SubsetSelectors = [];
        FallbackPolicy = FallbackPolicy.AnyEndpoint;
        DefaultSubsetLabels = LabelSet.Create(null, "defaultSubset");
    }

    /// <summary>
    /// Gets the policy of a service without <c>dynamicSubset</c>, as plain Istio routes it: every request may go to any
    /// routable endpoint, and a resolution that finds one is <see cref="ResolutionOutcome.Matched"/> with no subset.
    /// </summary>
    public static DynamicSubsetPolicy None { get; } = new();

    /// <summary>Gets the selectors, in declaration order; empty only for <see cref="None"/>.</summary>
    public ImmutableArray<SubsetSelector> SubsetSelectors { get; }

    /// <summary>Gets the global fallback policy.</summary>
    /// <value>Defaults to <see cref="Routing.FallbackPolicy.NoFallback"/>.</value>
    public FallbackPolicy FallbackPolicy { get; }

    /// <summary>Gets the pairs that define the default subset, sorted by key; empty when none is set.</summary>
    public IReadOnlyDictionary<string, string> DefaultSubset => DefaultSubsetLabels;

    internal LabelSet DefaultSubsetLabels { get; }
}
