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

    /// <summary>
    /// Istio's protocol selection for a port: its declared protocol (<c>appProtocol</c>, a ServiceEntry's
    /// <c>protocol</c>), else the prefix of its name before the first '-'. HTTP/2 for gRPC, gRPC-Web, HTTP/2 and h2c;
    /// HTTP/1.1 for HTTP; the client's own version for anything else (Istio sniffs those ports and keeps the client's).
    /// </summary>
    public static UpstreamProtocol PortProtocol(string? declared, string? name)
    {
        if (!string.IsNullOrEmpty(declared))
        {
            return declared.Equals("kubernetes.io/h2c", StringComparison.OrdinalIgnoreCase) ? UpstreamProtocol.Http2
                : declared.StartsWith("kubernetes.io/ws", StringComparison.OrdinalIgnoreCase) ? UpstreamProtocol.Http1
                : Named(declared);
        }

        if (string.IsNullOrEmpty(name))
        {
            return UpstreamProtocol.ClientProtocol;
        }

        var dash = name.IndexOf('-', StringComparison.Ordinal);
        return Named(dash < 0 ? name : name[..dash]);

        static UpstreamProtocol Named(string protocol) => protocol.ToUpperInvariant() switch
        {
            "GRPC" or "GRPC-WEB" or "HTTP2" or "H2C" => UpstreamProtocol.Http2,
            "HTTP" => UpstreamProtocol.Http1,
            _ => UpstreamProtocol.ClientProtocol,
        };
    }

    /// <summary>The Envoy-only <c>retryOn</c> conditions: warned and ignored.</summary>
    private static readonly string[] IgnoredRetryConditions =
        ["refused-stream", "envoy-ratelimited", "retriable-headers", "reset-before-request", "http3-post-connect-failure"];

    /// <summary>
    /// Parses Istio's <c>retryOn</c>: a comma list of conditions and status codes (a code means
    /// <c>retriable-status-codes</c>, as in Istio). Conditions this library cannot see are collected in <paramref name="ignored"/>.
    /// </summary>
    /// <returns>The first unknown token, or <see langword="null"/> when all were understood.</returns>
    public static string? ParseRetryOn(string text, out RetryOn retryOn, List<int> codes, List<string> ignored)
    {
        retryOn = RetryOn.None;
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            switch (raw)
            {
                case "5xx": retryOn |= RetryOn.ServerError; break;
                case "gateway-error": retryOn |= RetryOn.GatewayError; break;
                case "connect-failure": retryOn |= RetryOn.ConnectFailure; break;
                case "reset": retryOn |= RetryOn.Reset; break;
                case "retriable-4xx": retryOn |= RetryOn.Retriable4xx; break;
                case "retriable-status-codes": retryOn |= RetryOn.RetriableStatusCodes; break;
                case "cancelled": retryOn |= RetryOn.Cancelled; break;
                case "deadline-exceeded": retryOn |= RetryOn.DeadlineExceeded; break;
                case "internal": retryOn |= RetryOn.Internal; break;
                case "resource-exhausted": retryOn |= RetryOn.ResourceExhausted; break;
                case "unavailable": retryOn |= RetryOn.Unavailable; break;
                default:
                    if (Array.IndexOf(IgnoredRetryConditions, raw) >= 0)
                    {
                        ignored.Add(raw);
                    }
                    else if (int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599)
                    {
                        codes.Add(code);
                        retryOn |= RetryOn.RetriableStatusCodes;
                    }
                    else
                    {
                        return raw;
                    }

                    break;
            }
        }

        return null;
    }

    public static string UnknownRetryOn(string token) =>
        $"'{(token.Length <= 40 ? token : token[..32] + "...")}' is not a retry condition (expected 5xx, gateway-error, connect-failure, reset, retriable-4xx, retriable-status-codes, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable or a status code)";
}
