using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// A catalog of one service whose endpoints a user's <see cref="IEndpointSource"/> pushes. The source publishes
/// straight into the service's resolver, so an update costs one incremental build and no catalog swap.
/// </summary>
internal sealed partial class EndpointSourceRoutingCatalog : RoutingCatalog
{
    private readonly IDisposable _subscription;

    public EndpointSourceRoutingCatalog(string name, RoutingPolicy policy, IEndpointSource source, RoutingTelemetry telemetry, ILogger logger)
        : base($"endpoint source {source.GetType().Name} for '{name}'")
    {
        var resolver = new SubsetResolver(SubsetIndex.Build([], policy));
        var service = new RoutedService(name, resolver, origin: source.GetType().Name);
        resolver.Changed += (_, _) => telemetry.RecordUpdate(name, applied: true);
        Publish([service], service);
        _subscription = source.Start(new Publisher(this, resolver, name, logger));
    }

    protected override void Dispose(bool disposing)
    {
        _subscription.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Publishes a source's updates; a rejected update is logged, counted and recorded, and rethrown to the source.</summary>
    private sealed partial class Publisher(EndpointSourceRoutingCatalog catalog, SubsetResolver resolver, string service, ILogger logger) : IEndpointPublisher
    {
        public void ReplaceEndpoints(IEnumerable<Endpoint> endpoints) => Publish(() => resolver.ReplaceEndpoints(endpoints));

        public void ApplyChanges(IEnumerable<EndpointChange> changes) => Publish(() => resolver.ApplyChanges(changes));

        private void Publish(Action publish)
        {
            try
            {
                publish();
            }
            catch (RoutingValidationException e)
            {
                Log.UpdateRejected(logger, service, e.Message, resolver.Current.Generation);
                catalog.ReportRejected($"endpoint update for {service} rejected at {e.FieldPath}; snapshot {resolver.Current.Generation} keeps serving");
                throw;
            }
        }

        private static partial class Log
        {
            [LoggerMessage(EventId = 22, EventName = "EndpointUpdateRejected", Level = LogLevel.Error,
                Message = "Endpoint update for {Service} rejected: {Reason}. Snapshot {Generation} keeps serving.")]
            public static partial void UpdateRejected(ILogger logger, string service, string reason, long generation);
        }
    }
}
