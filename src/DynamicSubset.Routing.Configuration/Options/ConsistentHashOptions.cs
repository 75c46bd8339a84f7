namespace DynamicSubset.Routing.Configuration;

/// <summary>The DestinationRule's <c>loadBalancer.consistentHash</c>: exactly one key source.</summary>
public sealed class ConsistentHashOptions
{
    /// <summary>Gets or sets the header whose value is the key.</summary>
    public string? HttpHeaderName { get; set; }

    /// <summary>Gets or sets the cookie whose value is the key.</summary>
    public HttpCookieOptions? HttpCookie { get; set; }

    /// <summary>Gets or sets the query parameter whose value is the key.</summary>
    public string? HttpQueryParameterName { get; set; }

    /// <summary>Gets or sets a value indicating whether the caller's IP address is the key.</summary>
    public bool? UseSourceIp { get; set; }

    /// <summary>Gets or sets <c>ringHash</c>.</summary>
    public RingHashOptions? RingHash { get; set; }

    /// <summary>Gets or sets <c>maglev</c>.</summary>
    public MaglevOptions? Maglev { get; set; }

    /// <summary>Gets or sets the deprecated top-level <c>minimumRingSize</c>.</summary>
    public int? MinimumRingSize { get; set; }
}
