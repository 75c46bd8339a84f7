namespace DynamicSubset.Routing.Http;

/// <summary>
/// The names of everything DynamicSubset.Routing emits: meter, instruments, tags. They are API: dashboards and
/// alerts depend on them, so they change only with a major version.
/// </summary>
public static class RoutingTelemetryNames
{
    /// <summary>The meter's name.</summary>
    public const string Meter = "DynamicSubset.Routing";

    /// <summary>Counter of resolutions, by outcome. Unit <c>{resolution}</c>.</summary>
    public const string Resolutions = "dynamic_subset.resolutions";

    /// <summary>Counter of retries on another endpoint of the same set, by reason. Unit <c>{retry}</c>.</summary>
    public const string Retries = "dynamic_subset.retries";

    /// <summary>Counter of snapshot updates, applied or rejected. Unit <c>{update}</c>.</summary>
    public const string Updates = "dynamic_subset.updates";

    /// <summary>Counter of endpoints ejected by outlier detection. Unit <c>{ejection}</c>.</summary>
    public const string Ejections = "dynamic_subset.ejections";

    /// <summary>Counter: requests refused by a pool's connection limits (<c>connectionPool</c>), answered 503 <c>overflow</c>.</summary>
    public const string Overflows = "dynamic_subset.overflows";

    /// <summary>Gauge of the current snapshot's dynamic subsets. Unit <c>{subset}</c>.</summary>
    public const string Subsets = "dynamic_subset.subsets";

    /// <summary>Gauge of the current snapshot's endpoints, by state. Unit <c>{endpoint}</c>.</summary>
    public const string Endpoints = "dynamic_subset.endpoints";

    /// <summary>Tag: the service's host.</summary>
    public const string ServiceTag = "dynamic_subset.service";

    /// <summary>Tag: <c>matched</c>, <c>fallback</c>, <c>no_healthy_upstream</c>, or <c>no_route</c> (the host names no routed service; no service tag then).</summary>
    public const string OutcomeTag = "dynamic_subset.outcome";

    /// <summary>Tag: the fallback policy applied, for example <c>ANY_ENDPOINT</c>.</summary>
    public const string FallbackPolicyTag = "dynamic_subset.fallback.policy";

    /// <summary>Tag: <c>selector</c> or <c>global</c>.</summary>
    public const string FallbackScopeTag = "dynamic_subset.fallback.scope";

    /// <summary>Tag (traces only, it has one value per subset): the matched subset, for example <c>stage=dev, version=v1</c>.</summary>
    public const string SubsetTag = "dynamic_subset.subset";

    /// <summary>Tag: <c>applied</c> or <c>rejected</c>.</summary>
    public const string UpdateResultTag = "dynamic_subset.update.result";

    /// <summary>Tag: why a request was retried: <c>connect-failure</c>, <c>reset</c> or <c>per-try-timeout</c>.</summary>
    public const string RetryReasonTag = "dynamic_subset.retry.reason";

    /// <summary>Tag: <c>routable</c>, <c>unhealthy</c>, or <c>ejected</c> (by outlier detection).</summary>
    public const string EndpointStateTag = "dynamic_subset.endpoint.state";

    internal const string NoRouteOutcome = "no_route";

    internal static string OutcomeName(ResolutionOutcome outcome) => outcome switch
    {
        ResolutionOutcome.Matched => "matched",
        ResolutionOutcome.Fallback => "fallback",
        ResolutionOutcome.NoRoute => NoRouteOutcome,
        ResolutionOutcome.Answered => "answered",
        _ => "no_healthy_upstream",
    };
}
