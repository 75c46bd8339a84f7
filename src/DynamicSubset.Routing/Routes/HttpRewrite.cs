using System.Text.RegularExpressions;

namespace DynamicSubset.Routing;

/// <summary>
/// Istio's <c>HTTPRewrite</c>: the path and the authority the request is sent with. <see cref="Uri"/> replaces the
/// prefix the route matched (for an exact match, or a block without a uri condition, see <see cref="Rewrite"/>);
/// <see cref="UriRegex"/> replaces every match of a pattern. The query is kept.
/// </summary>
public sealed class HttpRewrite
{
    /// <summary>Gets or initializes the text that replaces the matched prefix, or <see langword="null"/>.</summary>
    public string? Uri { get; init => field = value is null || value.Length > 0 ? value : throw new RoutingValidationException("uri", "must not be empty", nameof(Uri)); }

    /// <summary>Gets or initializes the pattern of <c>uriRegexRewrite.match</c> (RE2 syntax), or <see langword="null"/>.</summary>
    public Regex? UriRegex { get; init; }

    /// <summary>Gets or initializes <c>uriRegexRewrite.rewrite</c>: the replacement, with <c>\1</c> for the first group.</summary>
    public string? UriRegexReplacement
    {
        get;
        init
        {
            field = value;
            _replacement = DotNetReplacement(value ?? ""); // once, not per request
        }
    }

    private readonly string _replacement = "";

    /// <summary>Gets or initializes the authority (Host) the request is sent with, or <see langword="null"/> to keep it.</summary>
    public string? Authority { get; init; }

    /// <summary>
    /// The request's path and query after the rewrite: a prefix match's prefix replaced by <see cref="Uri"/>; an exact
    /// match's whole path replaced; with no uri condition, the leading <c>/</c> replaced (Envoy's prefix <c>/</c>).
    /// </summary>
    /// <param name="pathAndQuery">The request's path and query, as sent.</param>
    /// <param name="matched">The match block that selected the route, or <see langword="null"/>.</param>
    /// <returns>The rewritten path and query, or the same string without a path rewrite.</returns>
    public string Rewrite(string pathAndQuery, HttpRouteMatch? matched)
    {
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? pathAndQuery : pathAndQuery[..q];
        var query = q < 0 ? "" : pathAndQuery[q..];
        if (UriRegex is { } regex)
        {
            return regex.Replace(path, _replacement) + query;
        }

        if (Uri is not { } uri)
        {
            return pathAndQuery;
        }

        var condition = matched?.Uri;
        return condition?.Kind switch
        {
            StringMatchKind.Prefix when path.Length >= condition.Value.Length => uri + path[condition.Value.Length..] + query,
            StringMatchKind.Exact or StringMatchKind.Regex => uri + query,
            _ => uri + path.TrimStart('/') + query,
        };
    }

    /// <summary>Envoy's substitution <c>\1</c> as .NET's <c>${1}</c>; a literal <c>$</c> kept literal.</summary>
    private static string DotNetReplacement(string envoy)
    {
        var text = new System.Text.StringBuilder(envoy.Length + 8);
        for (var i = 0; i < envoy.Length; i++)
        {
            var c = envoy[i];
            if (c == '\\' && i + 1 < envoy.Length && char.IsAsciiDigit(envoy[i + 1]))
            {
                text.Append("${").Append(envoy[++i]).Append('}');
            }
            else
            {
                text.Append(c == '$' ? "$$" : c.ToString());
            }
        }

        return text.ToString();
    }
}
