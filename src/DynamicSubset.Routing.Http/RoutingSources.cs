using DynamicSubset.Routing.Configuration;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

/// <summary>Where one named client's handler finds the resolver for a request. Lives as long as the service provider.</summary>
internal abstract class RoutingSource : IDisposable
{
    /// <summary>Gets every (service, resolver) pair, for the gauges.</summary>
    public abstract IEnumerable<(string Service, SubsetResolver Resolver)> Resolvers { get; }

    /// <summary>Finds the resolver for a request; <see langword="false"/> leaves the request alone.</summary>
    public abstract bool TryGet(Uri requestUri, out SubsetResolver resolver, out string service);

    /// <summary>Raised after any of the source's resolvers publishes, or its set of services changes.</summary>
    public event Action? Changed;

    public void Dispose() => DisposeCore();

    protected void RaiseChanged() => Changed?.Invoke();

    protected virtual void DisposeCore()
    {
    }

}

/// <summary>One service with one resolver: a static list, options, or a pushing source.</summary>
internal sealed class FixedRoutingSource : RoutingSource
{
    private readonly SubsetResolver _resolver;
    private readonly string _service;
    private readonly IDisposable? _owned;

    public FixedRoutingSource(string service, SubsetResolver resolver, RoutingTelemetry telemetry, IDisposable? owned = null)
    {
        _service = service;
        _resolver = resolver;
        _owned = owned;
        resolver.Changed += (_, _) =>
        {
            telemetry.RecordUpdate(service, applied: true);
            RaiseChanged();
        };
    }

    public override IEnumerable<(string Service, SubsetResolver Resolver)> Resolvers => [(_service, _resolver)];

    public override bool TryGet(Uri requestUri, out SubsetResolver resolver, out string service)
    {
        resolver = _resolver;
        service = _service;
        return true;
    }

    protected override void DisposeCore() => _owned?.Dispose();
}

/// <summary>
/// Mesh YAML files behind a <see cref="MeshConfigurationWatcher"/>: the service is the one named by <c>host</c>, or
/// else the one the request's own host names (short names included). Requests to other hosts pass through untouched.
/// </summary>
internal sealed class WatcherRoutingSource : RoutingSource
{
    private readonly MeshConfigurationWatcher _watcher;
    private readonly string? _host;

    public WatcherRoutingSource(MeshConfigurationWatcher watcher, string? host, RoutingTelemetry telemetry)
    {
        _watcher = watcher;
        _host = host;
        if (host is not null && !watcher.TryGetService(host, out _, out _))
        {
            var known = string.Join(", ", watcher.Current.Services.Select(static s => s.Host));
            watcher.Dispose();
            throw new InvalidOperationException($"No DestinationRule with a dynamicSubset in {string.Join(", ", watcher.Paths)} names host '{host}' (services: {(known.Length == 0 ? "none" : known)}).");
        }

        // Counted per reload rather than per resolver, so that services added by a later reload are counted too.
        watcher.Reloaded += (_, e) =>
        {
            if (e.Succeeded)
            {
                foreach (var service in watcher.Current.Services)
                {
                    telemetry.RecordUpdate(service.Host, applied: true);
                }

                RaiseChanged();
            }
            else
            {
                telemetry.RecordUpdate(host ?? "*", applied: false);
            }
        };
    }

    public override IEnumerable<(string Service, SubsetResolver Resolver)> Resolvers =>
        _watcher.Current.Services.Select(s => _watcher.TryGetService(s.Host, out _, out var r) ? (s.Host, r) : default).Where(static x => x.r is not null)!;

    public override bool TryGet(Uri requestUri, out SubsetResolver resolver, out string service)
    {
        if (_watcher.TryGetService(_host ?? requestUri.IdnHost, out var found, out var r))
        {
            resolver = r;
            service = found.Host;
            return true;
        }

        resolver = null!;
        service = "";
        return false;
    }

    protected override void DisposeCore() => _watcher.Dispose();
}

/// <summary>Publishes a user's <see cref="IEndpointSource"/> updates; a rejected update is logged and counted, and rethrown to the source.</summary>
internal sealed partial class EndpointPublisher(SubsetResolver resolver, string service, RoutingTelemetry telemetry, ILogger logger) : IEndpointPublisher
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
            telemetry.RecordUpdate(service, applied: false);
            Log.UpdateRejected(logger, service, e.Message, resolver.Current.Generation);
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
