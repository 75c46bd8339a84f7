namespace DynamicSubset.Routing.Http;

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
