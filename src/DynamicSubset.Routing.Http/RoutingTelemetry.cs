using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DynamicSubset.Routing.Http;

/// <summary>Owns the meter and its instruments; one per service provider.</summary>
internal sealed class RoutingTelemetry : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _resolutions;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _updates;
    private readonly Counter<long> _ejections;
    private readonly Counter<long> _overflows;
    private readonly List<RoutingCatalog> _catalogs = [];
    private readonly Lock _catalogsLock = new();

    public RoutingTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(RoutingTelemetryNames.Meter);
        _resolutions = _meter.CreateCounter<long>(RoutingTelemetryNames.Resolutions, "{resolution}", "Requests resolved to an endpoint, by outcome.");
        _retries = _meter.CreateCounter<long>(RoutingTelemetryNames.Retries, "{retry}", "Requests retried on another endpoint of the same set, by reason.");
        _updates = _meter.CreateCounter<long>(RoutingTelemetryNames.Updates, "{update}", "Routing snapshot updates, applied or rejected.");
        _ejections = _meter.CreateCounter<long>(RoutingTelemetryNames.Ejections, "{ejection}", "Endpoints ejected by outlier detection.");
        _overflows = _meter.CreateCounter<long>(RoutingTelemetryNames.Overflows, "{request}", "Requests refused by a pool's connection limits (connectionPool), answered 503 overflow.");
        _meter.CreateObservableGauge(RoutingTelemetryNames.Subsets, ObserveSubsets, "{subset}", "Dynamic subsets in the current snapshot.");
        _meter.CreateObservableGauge(RoutingTelemetryNames.Endpoints, ObserveEndpoints, "{endpoint}", "Endpoints in the current snapshot, by state.");
    }

    /// <summary>Observes a catalog for the gauges, and counts its updates: each publish applied, each rejection rejected.</summary>
    public void Register(RoutingCatalog catalog)
    {
        lock (_catalogsLock)
        {
            if (_catalogs.Contains(catalog))
            {
                return;
            }

            _catalogs.Add(catalog);
        }

        catalog.Changed += (_, e) =>
        {
            if (e.Change == RoutingCatalogChange.Published)
            {
                foreach (var service in e.Current.Services)
                {
                    RecordUpdate(service.Name, applied: true);
                }
            }
            else if (e.Change == RoutingCatalogChange.Rejected)
            {
                // A rejected edit may touch any service of a catalog; a one-service catalog's is that service's.
                RecordUpdate(e.Current.Services is [var only] ? only.Name : "*", applied: false);
            }
        };
    }

    public void RecordResolution(string service, in Resolution resolution)
    {
        if (!_resolutions.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { RoutingTelemetryNames.ServiceTag, service },
            { RoutingTelemetryNames.OutcomeTag, RoutingTelemetryNames.OutcomeName(resolution.Outcome) },
        };
        if (resolution.FallbackPolicy is { } policy)
        {
            tags.Add(RoutingTelemetryNames.FallbackPolicyTag, policy.ToMeshName());
            tags.Add(RoutingTelemetryNames.FallbackScopeTag, resolution.FallbackScope!.Value.ToMeshName());
        }

        _resolutions.Add(1, tags);
    }

    public void RecordRetry(string service, RetryReason reason)
    {
        if (_retries.Enabled)
        {
            _retries.Add(1, new(RoutingTelemetryNames.ServiceTag, service), new(RoutingTelemetryNames.RetryReasonTag, RoutingPipeline.ReasonName(reason)));
        }
    }

    public void RecordOverflow(string service)
    {
        if (_overflows.Enabled)
        {
            _overflows.Add(1, new KeyValuePair<string, object?>(RoutingTelemetryNames.ServiceTag, service));
        }
    }

    public void RecordEjection(string service)
    {
        if (_ejections.Enabled)
        {
            _ejections.Add(1, new KeyValuePair<string, object?>(RoutingTelemetryNames.ServiceTag, service));
        }
    }

    /// <summary>Counts a request whose host names no routed service (no service tag: the host comes from the network).</summary>
    public void RecordNoRoute()
    {
        if (_resolutions.Enabled)
        {
            _resolutions.Add(1, new KeyValuePair<string, object?>(RoutingTelemetryNames.OutcomeTag, RoutingTelemetryNames.NoRouteOutcome));
        }
    }

    public void RecordUpdate(string service, bool applied)
    {
        if (_updates.Enabled)
        {
            _updates.Add(1, new(RoutingTelemetryNames.ServiceTag, service), new(RoutingTelemetryNames.UpdateResultTag, applied ? "applied" : "rejected"));
        }
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<int>> ObserveSubsets()
    {
        foreach (var (service, resolver) in Snapshot())
        {
            yield return new Measurement<int>(resolver.Current.Subsets.Length, new KeyValuePair<string, object?>(RoutingTelemetryNames.ServiceTag, service));
        }
    }

    private IEnumerable<Measurement<int>> ObserveEndpoints()
    {
        foreach (var (service, resolver) in Snapshot())
        {
            var endpoints = resolver.Current.Endpoints;
            var routable = endpoints.Count(static e => e.IsHealthy);
            var ejected = resolver.Ejections.Count;
            yield return new Measurement<int>(routable, new(RoutingTelemetryNames.ServiceTag, service), new(RoutingTelemetryNames.EndpointStateTag, "routable"));
            yield return new Measurement<int>(endpoints.Length - routable - ejected, new(RoutingTelemetryNames.ServiceTag, service), new(RoutingTelemetryNames.EndpointStateTag, "unhealthy"));
            yield return new Measurement<int>(ejected, new(RoutingTelemetryNames.ServiceTag, service), new(RoutingTelemetryNames.EndpointStateTag, "ejected"));
        }
    }

    private List<(string, SubsetResolver)> Snapshot()
    {
        lock (_catalogsLock)
        {
            return [.. _catalogs.SelectMany(static c => c.Current.Services).Select(static s => (s.Name, s.Resolver)).DistinctBy(static r => r.Resolver)];
        }
    }
}

/// <summary>
/// Tags HttpClient's own activity with the routing decision. That activity is created inside the primary
/// handler, after every delegating handler has run (dotnet/runtime#96263), so the handler leaves the decision in
/// an async-local and this listener, called synchronously as the activity starts on the same flow, copies it.
/// </summary>
internal static class RoutingActivityEnricher
{
    private const string HttpClientActivity = "System.Net.Http.HttpRequestOut";
    private static readonly AsyncLocal<Decision?> s_current = new();
    private static int s_started;

    public static void EnsureStarted()
    {
        if (Interlocked.Exchange(ref s_started, 1) == 0)
        {
            ActivitySource.AddActivityListener(new ActivityListener
            {
                ShouldListenTo = static source => source.Name == "System.Net.Http",
                // Never asks for an activity of its own: it only decorates ones other listeners sample.
                Sample = static (ref _) => ActivitySamplingResult.None,
                ActivityStarted = static activity =>
                {
                    if (activity.OperationName == HttpClientActivity && s_current.Value is { } decision)
                    {
                        decision.Apply(activity);
                    }
                },
            });
        }
    }

    /// <summary>Sets the decision for the request about to be sent; the caller restores the previous value.</summary>
    public static Decision? Set(Decision? decision)
    {
        var previous = s_current.Value;
        s_current.Value = decision;
        return previous;
    }

    /// <summary>Tags an activity with a routing decision.</summary>
    public static void Tag(Activity activity, string service, in Resolution resolution) => new Decision(service, resolution).Apply(activity);

    internal sealed class Decision(string service, Resolution resolution)
    {
        public void Apply(Activity activity)
        {
            activity.SetTag(RoutingTelemetryNames.ServiceTag, service);
            activity.SetTag(RoutingTelemetryNames.OutcomeTag, RoutingTelemetryNames.OutcomeName(resolution.Outcome));
            if (resolution.Subset is { } subset)
            {
                activity.SetTag(RoutingTelemetryNames.SubsetTag, subset.ToString());
            }

            if (resolution.FallbackPolicy is { } policy)
            {
                activity.SetTag(RoutingTelemetryNames.FallbackPolicyTag, policy.ToMeshName());
                activity.SetTag(RoutingTelemetryNames.FallbackScopeTag, resolution.FallbackScope!.Value.ToMeshName());
            }
        }
    }
}
