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
