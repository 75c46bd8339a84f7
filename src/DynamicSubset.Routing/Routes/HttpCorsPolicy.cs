using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// Istio's <c>CorsPolicy</c>: the gateway answers an allowed origin's preflight itself, and adds the CORS headers to
/// an allowed origin's requests. Another origin's requests pass through untouched.
/// </summary>
public sealed class HttpCorsPolicy
{
    /// <summary>Gets or initializes the origins allowed (exact, prefix or regex).</summary>
    public ImmutableArray<StringMatch> AllowOrigins { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the methods allowed.</summary>
    public ImmutableArray<string> AllowMethods { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the request headers allowed.</summary>
    public ImmutableArray<string> AllowHeaders { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the response headers a browser may read.</summary>
    public ImmutableArray<string> ExposeHeaders { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes how long a preflight's answer may be cached, or <see langword="null"/>.</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>Gets or initializes whether credentials are allowed.</summary>
    public bool AllowCredentials { get; init; }

    /// <summary>Whether an origin is allowed.</summary>
    /// <param name="origin">The request's <c>Origin</c>.</param>
    /// <returns><see langword="true"/> if one of <see cref="AllowOrigins"/> matches it.</returns>
    public bool Allows(string origin)
    {
        foreach (var match in AllowOrigins)
        {
            if (match.IsMatch(origin))
            {
                return true;
            }
        }

        return false;
    }
}
