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
