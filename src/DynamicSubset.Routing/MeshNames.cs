using System.Diagnostics.CodeAnalysis;

namespace DynamicSubset.Routing;

/// <summary>The mesh's own spelling of the routing enums, as written in DestinationRule YAML.</summary>
public static class MeshNames
{
    /// <summary>Returns the YAML name of a fallback policy, for example <c>ANY_ENDPOINT</c>.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>The name.</returns>
    public static string ToMeshName(this FallbackPolicy policy) => policy switch
    {
        FallbackPolicy.NoFallback => "NO_FALLBACK",
        FallbackPolicy.AnyEndpoint => "ANY_ENDPOINT",
        FallbackPolicy.DefaultSubset => "DEFAULT_SUBSET",
        FallbackPolicy.KeysSubset => "KEYS_SUBSET",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown fallback policy"),
    };

    /// <summary>Returns <c>selector</c> or <c>global</c>.</summary>
    /// <param name="scope">The scope.</param>
    /// <returns>The name.</returns>
    public static string ToMeshName(this FallbackScope scope) => scope switch
    {
        FallbackScope.Global => "global",
        FallbackScope.Selector => "selector",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, "unknown fallback scope"),
    };

    /// <summary>Returns the YAML name of a load-balancing policy, for example <c>ROUND_ROBIN</c>.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>The name.</returns>
    public static string ToMeshName(this LoadBalancingPolicy policy) => policy switch
    {
        LoadBalancingPolicy.LeastRequest => "LEAST_REQUEST",
        LoadBalancingPolicy.RoundRobin => "ROUND_ROBIN",
        LoadBalancingPolicy.Random => "RANDOM",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown load-balancing policy"),
    };

    /// <summary>Parses a fallback policy's YAML name, exactly as written (case-sensitive).</summary>
    /// <param name="name">The name, for example <c>DEFAULT_SUBSET</c>.</param>
    /// <param name="policy">The policy, when the name is known.</param>
    /// <returns><see langword="true"/> if the name is known.</returns>
    public static bool TryParseFallbackPolicy(string? name, out FallbackPolicy policy) => TryParse(name, ToMeshName, out policy);

    /// <summary>Parses a load-balancing policy's YAML name, exactly as written (case-sensitive).</summary>
    /// <param name="name">The name, for example <c>ROUND_ROBIN</c>.</param>
    /// <param name="policy">The policy, when the name is known.</param>
    /// <returns><see langword="true"/> if the name is known.</returns>
    public static bool TryParseLoadBalancingPolicy(string? name, [NotNullWhen(true)] out LoadBalancingPolicy? policy)
    {
        var found = TryParse(name, ToMeshName, out LoadBalancingPolicy value);
        policy = found ? value : null;
        return found;
    }

    private static bool TryParse<T>(string? name, Func<T, string> format, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(format(candidate), name, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
