using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary><c>consistentHash.httpCookie</c>.</summary>
public sealed class HttpCookieOptions
{
    /// <summary>Gets or sets the cookie's name.</summary>
    [Required]
    public string? Name { get; set; }

    /// <summary>Gets or sets the path of a generated cookie.</summary>
    public string? Path { get; set; }

    /// <summary>Gets or sets the lifetime of a generated cookie, an Istio duration; unset: no cookie is generated.</summary>
    public string? Ttl { get; set; }
}
