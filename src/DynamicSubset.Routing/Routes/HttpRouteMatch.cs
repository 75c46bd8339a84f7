using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// One block of a VirtualService route's <c>match</c> list (Istio's <c>HTTPMatchRequest</c>): every condition set here
/// must hold. Header names compare case-insensitively; values, methods, schemes and authorities case-sensitively.
/// </summary>
public sealed class HttpRouteMatch
{
    /// <summary>Gets or initializes the block's name, for explanations.</summary>
    public string? Name { get; init; }

    /// <summary>Gets or initializes the condition on the path (without its query), or <see langword="null"/>.</summary>
    public StringMatch? Uri { get; init; }

    /// <summary>Gets or initializes whether <see cref="Uri"/>'s exact and prefix matches ignore case (<c>ignoreUriCase</c>).</summary>
    public bool IgnoreUriCase { get; init; }

    /// <summary>Gets or initializes the condition on the scheme, or <see langword="null"/>.</summary>
    public StringMatch? Scheme { get; init; }

    /// <summary>Gets or initializes the condition on the method, or <see langword="null"/>.</summary>
    public StringMatch? Method { get; init; }

    /// <summary>Gets or initializes the condition on the authority (the Host header as sent), or <see langword="null"/>.</summary>
    public StringMatch? Authority { get; init; }

    /// <summary>Gets or initializes the port the request must be addressed to, or <see langword="null"/>.</summary>
    public int? Port { get; init; }

    /// <summary>Gets or initializes the header conditions: each header must be present and match.</summary>
    public ImmutableArray<KeyValuePair<string, StringMatch>> Headers { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the query parameter conditions (<c>exact</c> or <c>regex</c>, on the decoded value).</summary>
    public ImmutableArray<KeyValuePair<string, StringMatch>> QueryParams { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the <c>sourceLabels</c>: labels the calling workload must have (<see cref="RouteRequest.SourceLabels"/>).</summary>
    public ImmutableArray<KeyValuePair<string, string>> SourceLabels { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the <c>withoutHeaders</c> conditions: the block fails if any of them matches (<c>{}</c>: if the header is present).</summary>
    public ImmutableArray<KeyValuePair<string, StringMatch>> WithoutHeaders { get => field.IsDefault ? [] : field; init; }

    /// <inheritdoc />
    public override string ToString()
    {
        var parts = new List<string>();
        if (Uri is not null)
        {
            parts.Add($"uri {Uri}");
        }

        if (Method is not null)
        {
            parts.Add($"method {Method}");
        }

        if (Scheme is not null)
        {
            parts.Add($"scheme {Scheme}");
        }

        if (Authority is not null)
        {
            parts.Add($"authority {Authority}");
        }

        if (Port is not null)
        {
            parts.Add($"port {Port}");
        }

        parts.AddRange(Headers.Select(h => $"header {h.Key} {h.Value}"));
        parts.AddRange(QueryParams.Select(h => $"query {h.Key} {h.Value}"));
        parts.AddRange(WithoutHeaders.Select(h => $"without header {h.Key} {h.Value}"));
        parts.AddRange(SourceLabels.Select(l => $"source label {l.Key}={l.Value}"));
        return parts.Count == 0 ? "any request" : string.Join(", ", parts);
    }
}
