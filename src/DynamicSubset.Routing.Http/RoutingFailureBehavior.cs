namespace DynamicSubset.Routing.Http;

/// <summary>
/// What the handler does when routing itself cannot deliver a request: no VirtualService route matches it, no endpoint
/// can take it, or every try timed out.
/// </summary>
public enum RoutingFailureBehavior
{
    /// <summary>
    /// Answer as the mesh proxy does: HTTP 404 <c>no route</c>, 503 <c>no healthy upstream</c>, or 504 <c>upstream request timeout</c>.
    /// The default.
    /// </summary>
    Respond = 0,

    /// <summary>
    /// Throw: <see cref="NoHealthyUpstreamException"/>, <see cref="NoRouteException"/>, or a <see cref="TaskCanceledException"/>
    /// whose inner exception is a <see cref="TimeoutException"/>.
    /// </summary>
    Throw = 1,
}
