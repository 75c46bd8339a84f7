namespace DynamicSubset.Routing;

/// <summary>
/// What a VirtualService's <c>match</c> conditions look at besides headers: method, path with query, authority, scheme,
/// port, and the caller's address. A value, so that routing a request allocates nothing.
/// </summary>
public readonly struct RouteRequest
{
    /// <summary>Initializes a new instance of the <see cref="RouteRequest"/> struct.</summary>
    /// <param name="method">The method, for example <c>GET</c> (methods are case-sensitive).</param>
    /// <param name="path">The path with its query, as sent: <c>/api/items?id=3</c>.</param>
    /// <param name="authority">The authority (Host header), with its port if it has one; <see langword="null"/> when unknown.</param>
    /// <param name="scheme">The scheme, <c>http</c> or <c>https</c>.</param>
    /// <param name="port">The port the request was addressed to; 0 when unknown.</param>
    /// <param name="sourceIp">The caller's IP address, for <c>useSourceIp</c>; <see langword="null"/> when unknown.</param>
    public RouteRequest(string method, string path, string? authority = null, string scheme = "http", int port = 0, System.Net.IPAddress? sourceIp = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Method = method;
        Path = path;
        Authority = authority;
        Scheme = scheme;
        Port = port;
        SourceIp = sourceIp;
    }

    /// <summary>Gets the method.</summary>
    public string Method => field ?? "GET";

    /// <summary>Gets the path with its query.</summary>
    public string Path => field ?? "/";

    /// <summary>Gets the authority, or <see langword="null"/>.</summary>
    public string? Authority { get; }

    /// <summary>Gets the scheme.</summary>
    public string Scheme => field ?? "http";

    /// <summary>Gets the port; 0 when unknown.</summary>
    public int Port { get; }

    /// <summary>Gets the caller's IP address, or <see langword="null"/>.</summary>
    public System.Net.IPAddress? SourceIp { get; }

    /// <summary>
    /// Gets or initializes the labels of the workload the request comes from, for <c>match[].sourceLabels</c>: the
    /// entry point's own (a client's, a gateway's), as configured; <see langword="null"/> when unknown, and then no
    /// block with <c>sourceLabels</c> matches.
    /// </summary>
    public IReadOnlyDictionary<string, string>? SourceLabels { get; init; }

    /// <summary>
    /// Gets or initializes the locality of the workload the request comes from, for <c>localityLbSetting</c> (the entry
    /// point's own, as configured); <see langword="null"/> when unknown, and then picks ignore locality.
    /// </summary>
    public Locality? SourceLocality { get; init; }

    /// <summary>Gets the path without its query (and fragment): what <c>uri</c> matches, as in Envoy.</summary>
    internal ReadOnlySpan<char> PathOnly
    {
        get
        {
            var path = Path.AsSpan();
            var end = path.IndexOfAny('?', '#');
            return end < 0 ? path : path[..end];
        }
    }

    /// <summary>Gets the query without its '?' (and without a fragment).</summary>
    internal ReadOnlySpan<char> Query
    {
        get
        {
            var path = Path.AsSpan();
            var start = path.IndexOf('?');
            if (start < 0)
            {
                return default;
            }

            var query = path[(start + 1)..];
            var end = query.IndexOf('#');
            return end < 0 ? query : query[..end];
        }
    }

    /// <summary>Finds a query parameter's raw value (not decoded); the first one when repeated.</summary>
    internal bool TryGetQueryParameter(string name, out ReadOnlySpan<char> value)
    {
        var query = Query;
        while (query.Length > 0)
        {
            var amp = query.IndexOf('&');
            var pair = amp < 0 ? query : query[..amp];
            query = amp < 0 ? default : query[(amp + 1)..];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (key.SequenceEqual(name))
            {
                value = eq < 0 ? default : pair[(eq + 1)..];
                return true;
            }
        }

        value = default;
        return false;
    }
}
