namespace DynamicSubset.Routing.Http;

/// <summary>Thrown under <see cref="RoutingFailureBehavior.Throw"/> when the service has VirtualService routes and none matches the request.</summary>
public sealed class NoRouteException : HttpRequestException
{
    /// <summary>Initializes a new instance of the <see cref="NoRouteException"/> class.</summary>
    /// <param name="service">The service whose routes were tried.</param>
    /// <param name="method">The request's method.</param>
    /// <param name="path">The request's path.</param>
    public NoRouteException(string service, string method, string path)
        : base($"no route of {service} matches {method} {path}", null, System.Net.HttpStatusCode.NotFound)
    {
        Service = service;
    }

    /// <summary>Gets the service whose routes were tried.</summary>
    public string Service { get; }
}
