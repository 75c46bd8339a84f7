namespace DynamicSubset.Routing.Http;

/// <summary>
/// A source of endpoints that pushes updates: a service registry, a Kubernetes watch, a discovery client.
/// Register it with <c>AddDynamicSubsetRouting&lt;TSource&gt;(policy)</c>; see docs/httpclient.md.
/// </summary>
public interface IEndpointSource
{
    /// <summary>
    /// Starts the source. Publish the current endpoints through <paramref name="publisher"/> before returning if you
    /// have them, and every later change until the returned object is disposed. Called once, from any thread.
    /// </summary>
    /// <param name="publisher">Where to publish; safe to call from any thread.</param>
    /// <returns>Stops the source.</returns>
    IDisposable Start(IEndpointPublisher publisher);
}

/// <summary>Where an <see cref="IEndpointSource"/> publishes; every call builds and publishes a new snapshot.</summary>
public interface IEndpointPublisher
{
    /// <summary>Replaces every endpoint.</summary>
    /// <param name="endpoints">The endpoints.</param>
    /// <exception cref="RoutingValidationException">The endpoints are invalid; they were rejected, logged and counted, and the last good snapshot keeps serving.</exception>
    void ReplaceEndpoints(IEnumerable<Endpoint> endpoints);

    /// <summary>Applies changes; only the subsets they touch are rebuilt.</summary>
    /// <param name="changes">The changes, in order.</param>
    /// <exception cref="RoutingValidationException">A change is invalid; it was rejected, logged and counted, and the last good snapshot keeps serving.</exception>
    void ApplyChanges(IEnumerable<EndpointChange> changes);
}
