using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// The routing catalog of one service whose endpoints an <see cref="IEndpointSource"/> pushes (a registry, a
/// discovery client). The source publishes straight into the service's resolver, so an update costs one incremental
/// build; the catalog then swaps its one-service snapshot, so that every view counts the update as any catalog's. The
/// service takes every request, whatever its host.
/// </summary>
public sealed partial class EndpointSourceRoutingCatalog : RoutingCatalog
{
    private readonly IDisposable _subscription;

    /// <summary>Initializes a new instance of the <see cref="EndpointSourceRoutingCatalog"/> class, and starts the source.</summary>
    /// <param name="name">The service's name.</param>
    /// <param name="policy">The routing policy.</param>
    /// <param name="source">The source; started here, stopped when the catalog is disposed.</param>
    /// <param name="logger">The logger for rejected updates; <see langword="null"/> for none.</param>
    public EndpointSourceRoutingCatalog(string name, RoutingPolicy policy, IEndpointSource source, ILogger? logger = null)
        : base($"endpoint source {source?.GetType().Name} for '{name}'")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(source);
        var resolver = new SubsetResolver(SubsetIndex.Build([], policy));
        Service = new RoutedService(name, resolver, origin: source.GetType().Name);
        Publish([Service], Service);
        _subscription = source.Start(new Publisher(this, resolver, name, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
    }

    /// <summary>Gets the service.</summary>
    public RoutedService Service { get; }

    private void Republish() => Publish([Service], Service);

    /// <inheritdoc />
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
                catalog.Republish();
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
