namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// What dynamic subset routing decided for the request being served, and where its tries went: set on
/// <c>HttpContext.Features</c> by the gateway and the YARP step (as YARP's <c>IReverseProxyFeature</c> carries a
/// proxied request's state), for middleware, logs and transforms that run around them.
/// </summary>
public interface IDynamicSubsetRoutingFeature
{
    /// <summary>Gets the decision: the route, the destination, the pool and the resolution.</summary>
    RouteDecision Decision { get; }

    /// <summary>Gets the endpoint of the current or last try, or <see langword="null"/> before the first.</summary>
    Endpoint? Endpoint { get; }

    /// <summary>Gets how many tries have started.</summary>
    int Attempts { get; }
}
