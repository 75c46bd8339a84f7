namespace DynamicSubset.Routing;

/// <summary>
/// Istio's <c>HTTPRedirect</c>: the route answers with a redirect itself, no endpoint involved. Each part left
/// <see langword="null"/> is kept from the request.
/// </summary>
public sealed class HttpRedirect
{
    /// <summary>Gets or initializes the path that replaces the request's (its query is kept unless this has one).</summary>
    public string? Uri { get; init; }

    /// <summary>Gets or initializes the host that replaces the request's.</summary>
    public string? Authority { get; init; }

    /// <summary>Gets or initializes the scheme that replaces the request's.</summary>
    public string? Scheme { get; init; }

    /// <summary>Gets or initializes the port of the new location, or <see langword="null"/>.</summary>
    public int? Port { get; init => field = value is null or (>= 1 and <= 65535) ? value : throw new RoutingValidationException("port", $"{value} is not a port", nameof(Port)); }

    /// <summary>Gets or initializes <c>derivePort</c>: <see langword="true"/> for <c>FROM_REQUEST_PORT</c>, <see langword="false"/> for <c>FROM_PROTOCOL_DEFAULT</c>, <see langword="null"/> when unset.</summary>
    public bool? PortFromRequest { get; init; }

    /// <summary>Gets or initializes the status: 301 (the default), 302, 303, 307 or 308.</summary>
    public int RedirectCode
    {
        get;
        init => field = value is 301 or 302 or 303 or 307 or 308 ? value : throw new RoutingValidationException("redirectCode", $"{value} is not a redirect status (expected 301, 302, 303, 307 or 308)", nameof(RedirectCode));
    } = 301;

    /// <summary>The <c>Location</c> of the redirect for a request.</summary>
    /// <param name="scheme">The request's scheme.</param>
    /// <param name="host">The request's Host header (with its port, if any).</param>
    /// <param name="pathAndQuery">The request's path and query.</param>
    /// <returns>The absolute location.</returns>
    public string Location(string scheme, string host, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var (requestHost, requestPort) = SplitHost(host);
        var newScheme = Scheme ?? scheme;
        var newHost = Authority ?? requestHost;
        int? port = Port ?? (PortFromRequest switch
        {
            true => requestPort,
            false => null,
            _ => Authority is null && Scheme is null ? requestPort : null,
        });
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = Uri is { } uri ? (uri.Contains('?', StringComparison.Ordinal) || q < 0 ? uri : uri + pathAndQuery[q..]) : pathAndQuery;
        var portText = port is { } p && !(p == 80 && newScheme == "http") && !(p == 443 && newScheme == "https") ? $":{p}" : "";
        return $"{newScheme}://{newHost}{portText}{path}";
    }

    private static (string Host, int? Port) SplitHost(string host)
    {
        var colon = host.LastIndexOf(':');
        return colon > 0 && host.IndexOf(']', StringComparison.Ordinal) < colon && int.TryParse(host.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? (host[..colon], port)
            : (host, null);
    }
}
