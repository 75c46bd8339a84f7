namespace DynamicSubset.Routing;

/// <summary>
/// A DestinationRule's <c>trafficPolicy.connectionPool</c> limits (Envoy's circuit breakers) for one pool: how many
/// requests may be at its endpoints at once, and how many may wait for one of those places. A request past both is
/// answered 503 <c>overflow</c> at once; none waits without a bound.
/// </summary>
public sealed record ConnectionPoolPolicy
{
    /// <summary>Envoy's default bound on waiting requests when only the other limits are set.</summary>
    public const int DefaultMaxPendingRequests = 1024;

    /// <summary>Gets the most requests at once to an HTTP/1.1 pool (<c>tcp.maxConnections</c>: one request per connection), or <see langword="null"/> for no limit.</summary>
    public int? MaxConnections { get; init => field = Positive(value, "tcp.maxConnections"); }

    /// <summary>Gets the most requests at once to an HTTP/2 pool (<c>http.http2MaxRequests</c>), or <see langword="null"/> for no limit.</summary>
    public int? Http2MaxRequests { get; init => field = Positive(value, "http.http2MaxRequests"); }

    /// <summary>Gets the most requests that wait for a place (<c>http.http1MaxPendingRequests</c>), or <see langword="null"/> for <see cref="DefaultMaxPendingRequests"/>.</summary>
    public int? MaxPendingRequests { get; init => field = value is null or >= 0 ? value : throw new RoutingValidationException("http.http1MaxPendingRequests", $"{value} is negative", nameof(MaxPendingRequests)); }

    /// <summary>Gets the most retries outstanding to the pool at once (<c>http.maxRetries</c>), or <see langword="null"/> for no limit.</summary>
    public int? MaxRetries { get; init => field = value is null or >= 0 ? value : throw new RoutingValidationException("http.maxRetries", $"{value} is negative", nameof(MaxRetries)); }

    /// <summary>Gets how long a connection to an endpoint may take to open (<c>tcp.connectTimeout</c>), or <see langword="null"/> for the entry point's own.</summary>
    public TimeSpan? ConnectTimeout { get; init => field = value is null || value > TimeSpan.Zero ? value : throw new RoutingValidationException("tcp.connectTimeout", $"{value} is not positive", nameof(ConnectTimeout)); }

    /// <summary>
    /// Gets how long a connection may stay open with no request on it (the shorter of <c>http.idleTimeout</c> and
    /// <c>tcp.idleTimeout</c>), or <see langword="null"/> for the entry point's own.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init => field = value is null || value > TimeSpan.Zero ? value : throw new RoutingValidationException("http.idleTimeout", $"{value} is not positive", nameof(IdleTimeout)); }

    /// <summary>Gets how many requests one connection carries before it is closed (<c>http.maxRequestsPerConnection</c>), or <see langword="null"/> for no limit.</summary>
    public int? MaxRequestsPerConnection { get; init => field = Positive(value, "http.maxRequestsPerConnection"); }

    /// <summary>Gets a value indicating whether the pool bounds requests at once (a limit the attempt loop keeps).</summary>
    public bool HasRequestLimits => MaxConnections is not null || Http2MaxRequests is not null || MaxRetries is not null;

    /// <summary>The most requests at once to a pool of <paramref name="protocol"/>, or <see langword="null"/> for no limit.</summary>
    /// <param name="protocol">The pool's upstream protocol.</param>
    /// <returns>The limit.</returns>
    public int? MaxActive(UpstreamProtocol protocol) => protocol == UpstreamProtocol.Http2 ? Http2MaxRequests : MaxConnections;

    private static int? Positive(int? value, string path) =>
        value is null or >= 1 ? value : throw new RoutingValidationException(path, $"{value} is not 1 or more", path);
}
