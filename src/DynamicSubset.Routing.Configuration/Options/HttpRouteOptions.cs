using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration;

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
