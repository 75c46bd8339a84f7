namespace DynamicSubset.Routing;

/// <summary>
/// Session affinity: the same key goes to the same endpoint of the chosen set while that endpoint stays routable, and
/// removing an endpoint moves only (about) its own share of the keys. A request without a key is balanced as usual.
/// </summary>
public sealed record ConsistentHashPolicy
{
    /// <summary>The default ring size, as in Envoy.</summary>
    public const int DefaultMinimumRingSize = 1024;

    /// <summary>The largest ring.</summary>
    public const int MaximumRingSize = 1 << 23;

    /// <summary>The default Maglev table size, as in Envoy: a prime.</summary>
    public const int DefaultTableSize = 65537;

    /// <summary>The largest Maglev table.</summary>
    public const int MaximumTableSize = 5000011;

    private static readonly System.Buffers.SearchValues<char> NotInCookieName = System.Buffers.SearchValues.Create("=;, \t\r\n\"");

    private ConsistentHashPolicy(ConsistentHashSource source, string? name, string? cookiePath, TimeSpan? cookieTtl)
    {
        Source = source;
        Name = name;
        CookiePath = cookiePath;
        CookieTtl = cookieTtl;
    }

    /// <summary>Gets where the key comes from.</summary>
    public ConsistentHashSource Source { get; }

    /// <summary>Gets the header, cookie or query parameter name; <see langword="null"/> for <see cref="ConsistentHashSource.SourceIp"/>.</summary>
    public string? Name { get; }

    /// <summary>Gets the path of a generated cookie, or <see langword="null"/>.</summary>
    public string? CookiePath { get; }

    /// <summary>Gets the lifetime of a generated cookie; <see langword="null"/> means a missing cookie is not generated, as in Envoy.</summary>
    public TimeSpan? CookieTtl { get; }

    /// <summary>Gets or initializes the table algorithm.</summary>
    /// <value>Defaults to <see cref="ConsistentHashAlgorithm.RingHash"/>.</value>
    public ConsistentHashAlgorithm Algorithm { get; init; }

    /// <summary>Gets or initializes the least number of points on the ring (<c>ringHash.minimumRingSize</c>).</summary>
    /// <value>Defaults to <see cref="DefaultMinimumRingSize"/>; between 1 and <see cref="MaximumRingSize"/>.</value>
    public int MinimumRingSize
    {
        get;
        init => field = value is >= 1 and <= MaximumRingSize
            ? value
            : throw new RoutingValidationException("ringHash.minimumRingSize", $"{value} is not between 1 and {MaximumRingSize}", nameof(MinimumRingSize));
    } = DefaultMinimumRingSize;

    /// <summary>Gets or initializes the Maglev table size (<c>maglev.tableSize</c>), a prime.</summary>
    /// <value>Defaults to <see cref="DefaultTableSize"/>.</value>
    public int TableSize
    {
        get;
        init => field = value is >= 2 and <= MaximumTableSize && IsPrime(value)
            ? value
            : throw new RoutingValidationException("maglev.tableSize", $"{value} is not a prime between 2 and {MaximumTableSize}", nameof(TableSize));
    } = DefaultTableSize;

    /// <summary>Hashes on a request header (<c>httpHeaderName</c>); names match case-insensitively.</summary>
    /// <param name="name">The header.</param>
    /// <returns>The policy.</returns>
    public static ConsistentHashPolicy ForHeader(string name) => new(ConsistentHashSource.Header, Required(name, "httpHeaderName", nameof(name)), null, null);

    /// <summary>Hashes on a cookie (<c>httpCookie</c>).</summary>
    /// <param name="name">The cookie's name.</param>
    /// <param name="path">The path of a generated cookie, or <see langword="null"/>.</param>
    /// <param name="ttl">When set, a request without the cookie gets a generated one, set on the response with this lifetime.</param>
    /// <returns>The policy.</returns>
    public static ConsistentHashPolicy ForCookie(string name, string? path = null, TimeSpan? ttl = null)
    {
        Required(name, "httpCookie.name", nameof(name));
        if (name.AsSpan().IndexOfAny(NotInCookieName) >= 0)
        {
            throw new RoutingValidationException("httpCookie.name", $"'{name}' is not a cookie name", nameof(name));
        }

        if (path is not null && path.AsSpan().IndexOfAny(";\r\n") >= 0)
        {
            throw new RoutingValidationException("httpCookie.path", "must not contain ';' or a line break", nameof(path));
        }

        if (ttl < TimeSpan.Zero)
        {
            throw new RoutingValidationException("httpCookie.ttl", "must not be negative", nameof(ttl));
        }

        return new(ConsistentHashSource.Cookie, name, path, ttl);
    }

    /// <summary>Hashes on a query parameter (<c>httpQueryParameterName</c>).</summary>
    /// <param name="name">The parameter.</param>
    /// <returns>The policy.</returns>
    public static ConsistentHashPolicy ForQueryParameter(string name) => new(ConsistentHashSource.QueryParameter, Required(name, "httpQueryParameterName", nameof(name)), null, null);

    /// <summary>Hashes on the caller's IP address (<c>useSourceIp</c>).</summary>
    /// <returns>The policy.</returns>
    public static ConsistentHashPolicy ForSourceIp() => new(ConsistentHashSource.SourceIp, null, null, null);

    /// <inheritdoc />
    public override string ToString() => Source switch
    {
        ConsistentHashSource.Header => $"httpHeaderName {Name}",
        ConsistentHashSource.Cookie => $"httpCookie {Name}",
        ConsistentHashSource.QueryParameter => $"httpQueryParameterName {Name}",
        _ => "useSourceIp",
    } + (Algorithm == ConsistentHashAlgorithm.Maglev ? $" (maglev {TableSize})" : $" (ringHash {MinimumRingSize})");

    private static string Required(string name, string field, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        return string.IsNullOrWhiteSpace(name) ? throw new RoutingValidationException(field, "must not be empty", paramName) : name;
    }

    private static bool IsPrime(int n)
    {
        if (n < 4)
        {
            return n >= 2;
        }

        if (n % 2 == 0)
        {
            return false;
        }

        for (var d = 3; (long)d * d <= n; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
