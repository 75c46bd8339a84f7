namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// The mesh's enum values as the YAML reader and the options binding both accept them, with one error text each, so
/// a DestinationRule and appsettings.json agree on what is valid.
/// </summary>
internal static class MeshEnums
{
    /// <summary>Parses a <c>fallbackPolicy</c>; <c>KEYS_SUBSET</c> only where a selector allows it.</summary>
    public static bool TryParseFallback(string text, bool allowKeysSubset, out FallbackPolicy policy) =>
        MeshNames.TryParseFallbackPolicy(text, out policy) && (allowKeysSubset || policy != FallbackPolicy.KeysSubset);

    public static string UnknownFallback(string text, bool allowKeysSubset) =>
        $"unknown value '{text}' (expected NO_FALLBACK, ANY_ENDPOINT, DEFAULT_SUBSET{(allowKeysSubset ? ", KEYS_SUBSET" : "")})";

    /// <summary>
    /// Parses <c>loadBalancer.simple</c>, with Istio's other values: <c>UNSPECIFIED</c> is the default,
    /// <c>LEAST_CONN</c> is its deprecated alias of <c>LEAST_REQUEST</c>, and <c>PASSTHROUGH</c> is not supported
    /// (<paramref name="unsupported"/> is set; the default applies).
    /// </summary>
    /// <returns><see langword="false"/> for an unknown value.</returns>
    public static bool TryParseSimple(string text, out LoadBalancingPolicy? policy, out bool unsupported)
    {
        unsupported = text == "PASSTHROUGH";
        switch (text)
        {
            case "UNSPECIFIED" or "PASSTHROUGH":
                policy = null;
                return true;
            case "LEAST_CONN":
                policy = LoadBalancingPolicy.LeastRequest;
                return true;
            default:
                return MeshNames.TryParseLoadBalancingPolicy(text, out policy);
        }
    }

    public static string UnknownSimple(string text) => $"unknown value '{text}' (expected LEAST_REQUEST, ROUND_ROBIN, RANDOM)";
}
