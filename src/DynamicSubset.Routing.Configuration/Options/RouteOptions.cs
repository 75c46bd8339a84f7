using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration;

/// <summary>One entry of the DestinationRule's <c>subsets</c>: a static subset of the service.</summary>
public sealed class SubsetOptions
{
    /// <summary>Gets or sets the subset's name, which routes name in <c>destination.subset</c>.</summary>
    [Required]
    public string? Name { get; set; }

    /// <summary>Gets the labels an endpoint needs, all of them, to be in the subset.</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets the subset's own <c>trafficPolicy</c>; each field it sets replaces the service's.</summary>
    public SubsetTrafficPolicyOptions? TrafficPolicy { get; set; }
}

/// <summary>A static subset's <c>trafficPolicy</c>: a field left unset keeps the service's.</summary>
public sealed class SubsetTrafficPolicyOptions
{
    /// <summary>Gets or sets <c>loadBalancer</c>; when set, it replaces the service's whole <c>loadBalancer</c>, as in Istio.</summary>
    public LoadBalancerOptions? LoadBalancer { get; set; }

    /// <summary>Gets or sets <c>outlierDetection</c>; when set, it replaces the service's.</summary>
    public OutlierDetectionOptions? OutlierDetection { get; set; }
}

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

/// <summary><c>consistentHash.ringHash</c>.</summary>
public sealed class RingHashOptions
{
    /// <summary>Gets or sets <c>minimumRingSize</c>.</summary>
    public int? MinimumRingSize { get; set; }
}

/// <summary><c>consistentHash.maglev</c>.</summary>
public sealed class MaglevOptions
{
    /// <summary>Gets or sets <c>tableSize</c>, a prime.</summary>
    public int? TableSize { get; set; }
}

/// <summary>One entry of the VirtualService's <c>http</c> list; its destinations are subsets of this service.</summary>
public sealed class HttpRouteOptions
{
    /// <summary>Gets or sets the route's name.</summary>
    public string? Name { get; set; }

    /// <summary>Gets the match blocks; none matches every request.</summary>
    [ValidateEnumeratedItems]
    public IList<HttpMatchRequestOptions> Match { get; } = [];

    /// <summary>Gets the destinations; at least one.</summary>
    [ValidateEnumeratedItems]
    public IList<HttpRouteDestinationOptions> Route { get; } = [];

    /// <summary>Gets the route's <c>headerToDynamicSubsetKey</c> mappings.</summary>
    [ValidateEnumeratedItems]
    public IList<HeaderToDynamicSubsetKeyOptions> HeaderToDynamicSubsetKey { get; } = [];

    /// <summary>Gets or sets <c>retries</c>.</summary>
    [ValidateObjectMembers]
    public HttpRetryOptions? Retries { get; set; }

    /// <summary>Gets or sets <c>timeout</c>, an Istio duration; <c>0s</c> for no bound.</summary>
    public string? Timeout { get; set; }
}

/// <summary>One block of a route's <c>match</c> list.</summary>
public sealed class HttpMatchRequestOptions
{
    /// <summary>Gets or sets the block's name.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets the condition on the path.</summary>
    public StringMatchOptions? Uri { get; set; }

    /// <summary>Gets or sets the condition on the scheme.</summary>
    public StringMatchOptions? Scheme { get; set; }

    /// <summary>Gets or sets the condition on the method.</summary>
    public StringMatchOptions? Method { get; set; }

    /// <summary>Gets or sets the condition on the authority.</summary>
    public StringMatchOptions? Authority { get; set; }

    /// <summary>Gets the header conditions; an empty match asks for presence.</summary>
    public IDictionary<string, StringMatchOptions> Headers { get; } = new Dictionary<string, StringMatchOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the query parameter conditions (exact or regex).</summary>
    public IDictionary<string, StringMatchOptions> QueryParams { get; } = new Dictionary<string, StringMatchOptions>(StringComparer.Ordinal);

    /// <summary>Gets the <c>withoutHeaders</c> conditions.</summary>
    public IDictionary<string, StringMatchOptions> WithoutHeaders { get; } = new Dictionary<string, StringMatchOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets <c>ignoreUriCase</c>.</summary>
    public bool IgnoreUriCase { get; set; }

    /// <summary>Gets or sets the port the request must be addressed to.</summary>
    [Range(1, 65535)]
    public int? Port { get; set; }
}

/// <summary>An Istio <c>StringMatch</c>: one of <c>exact</c>, <c>prefix</c>, <c>regex</c>; none set asks for presence.</summary>
public sealed class StringMatchOptions
{
    /// <summary>Gets or sets the exact value.</summary>
    public string? Exact { get; set; }

    /// <summary>Gets or sets the prefix.</summary>
    public string? Prefix { get; set; }

    /// <summary>Gets or sets the RE2-style pattern, matched against the whole value.</summary>
    public string? Regex { get; set; }
}

/// <summary>One destination of a route.</summary>
public sealed class HttpRouteDestinationOptions
{
    /// <summary>Gets or sets the destination.</summary>
    public DestinationOptions Destination { get; set; } = new();

    /// <summary>Gets or sets the relative weight, when the route has several destinations.</summary>
    [Range(0L, uint.MaxValue)]
    public long Weight { get; set; }
}

/// <summary>A route's destination: this service, or one of its static subsets.</summary>
public sealed class DestinationOptions
{
    /// <summary>Gets or sets the host; options describe one service, so it may be left out, and must name that service when set.</summary>
    public string? Host { get; set; }

    /// <summary>Gets or sets the static subset, or <see langword="null"/> for the whole service.</summary>
    public string? Subset { get; set; }
}

/// <summary>A route's <c>retries</c>.</summary>
public sealed class HttpRetryOptions
{
    /// <summary>Gets or sets <c>attempts</c>: retries after the first try.</summary>
    [Range(0, RouteRetryPolicy.MaxAttempts)]
    public int Attempts { get; set; }

    /// <summary>Gets or sets <c>perTryTimeout</c>, an Istio duration.</summary>
    public string? PerTryTimeout { get; set; }

    /// <summary>Gets or sets <c>retryOn</c>, Istio's comma list; unset: connect failures.</summary>
    public string? RetryOn { get; set; }
}
