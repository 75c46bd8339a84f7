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

    /// <summary>Gets or initializes the <c>withoutHeaders</c> conditions: the block fails if any of them matches (<c>{}</c>: if the header is present).</summary>
    public ImmutableArray<KeyValuePair<string, StringMatch>> WithoutHeaders { get => field.IsDefault ? [] : field; init; }

    /// <summary>Whether the request meets every condition; when not, <paramref name="failure"/> names the first that failed (only if <paramref name="explain"/>).</summary>
    internal bool Evaluate<THeaders>(in RouteRequest request, THeaders headers, bool explain, out string? failure)
        where THeaders : IHeaderSource, allows ref struct
    {
        failure = null;
        if (Uri is { } uri && !uri.IsMatch(request.PathOnly, IgnoreUriCase))
        {
            failure = explain ? $"uri {uri}{(IgnoreUriCase ? " (ignoreUriCase)" : "")} does not match '{Show(request.PathOnly)}'" : null;
            return false;
        }

        if (Scheme is { } scheme && !scheme.IsMatch(request.Scheme))
        {
            failure = explain ? $"scheme {scheme} does not match '{request.Scheme}'" : null;
            return false;
        }

        if (Method is { } method && !method.IsMatch(request.Method))
        {
            failure = explain ? $"method {method} does not match '{Show(request.Method)}'" : null;
            return false;
        }

        if (Authority is { } authority && (request.Authority is not { } actual || !authority.IsMatch(actual)))
        {
            failure = explain ? $"authority {authority} does not match '{Show(request.Authority ?? "")}'" : null;
            return false;
        }

        if (Port is { } port && request.Port != port)
        {
            failure = explain ? $"port {port} does not match {request.Port}" : null;
            return false;
        }

        foreach (var (name, match) in Headers)
        {
            if (HeaderMatches(headers, name, match, out var present) is false)
            {
                failure = explain ? (present ? $"header {name} does not match {match}" : $"header {name} is absent ({match} needed)") : null;
                return false;
            }
        }

        foreach (var (name, match) in QueryParams)
        {
            if (!request.TryGetQueryParameter(name, out var raw) || !QueryMatches(raw, match))
            {
                failure = explain ? $"query parameter {name} does not match {match}" : null;
                return false;
            }
        }

        foreach (var (name, match) in WithoutHeaders)
        {
            if (HeaderMatches(headers, name, match, out _))
            {
                failure = explain ? $"withoutHeaders: header {name} matches {match}" : null;
                return false;
            }
        }

        return true;
    }

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
        return parts.Count == 0 ? "any request" : string.Join(", ", parts);
    }

    private static bool HeaderMatches<THeaders>(THeaders headers, string name, StringMatch match, out bool present)
        where THeaders : IHeaderSource, allows ref struct
    {
        var values = default(HeaderValues);
        present = headers.TryGetValues(name, ref values);
        var matched = present && !values.IsTooLong && match.IsMatch(values.AsSpan());
        if (values.UsedBuffer)
        {
            HeaderValues.ReleaseThreadBuffer();
        }

        return matched;
    }

    internal static bool QueryMatches(ReadOnlySpan<char> raw, StringMatch match)
    {
        if (raw.IndexOfAny('%', '+') < 0)
        {
            return match.IsMatch(raw);
        }

        // Escaped: matched on the decoded value, as Envoy does. Only such a request pays for the copy.
        return raw.Length <= StringMatch.MaxInputLength && match.IsMatch(System.Uri.UnescapeDataString(raw.ToString().Replace('+', ' ')));
    }

    private static string Show(ReadOnlySpan<char> value) => value.Length <= 64 ? value.ToString() : value[..64].ToString() + "...";
}
