using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

/// <summary>Why a request was sent again to another endpoint.</summary>
internal enum RetryReason
{
    /// <summary>Nothing reached the endpoint: connection refused, reset while connecting, no route to host.</summary>
    ConnectFailure,

    /// <summary>The endpoint did not answer within the per-try timeout.</summary>
    PerTryTimeout,

    /// <summary>The request was sent, and the connection failed before the response headers came.</summary>
    Reset,

    /// <summary>The endpoint answered with a status the route's <c>retryOn</c> retries (a 503 under <c>5xx</c>).</summary>
    Status,
}

/// <summary>
/// The one step every entry point calls, so that a request is decided, recorded and logged the same way whichever
/// door it came through (HttpClient handler, gateway, YARP step): the service lookup, the resolution, its metric and
/// trace tags, the retry and failure records, and the bodies of the responses the router makes itself.
/// </summary>
internal sealed partial class RoutingPipeline(RoutingTelemetry telemetry, ILogger logger, TimeProvider time)
{
    /// <summary>The body of a 503 when no endpoint can take a request, as the mesh proxy writes it.</summary>
    public const string NoHealthyUpstreamBody = "no healthy upstream";

    /// <summary>The body of a 404 when a request's host names no routed service.</summary>
    public const string NoRouteBody = "no route";

    /// <summary>The body of a 504 when every try timed out, as the mesh proxy writes it.</summary>
    public const string UpstreamTimeoutBody = "upstream request timeout";

    /// <summary>How many decisions that were not plain matches are kept per service per second; the counters count them all.</summary>
    public const int DecisionsPerSecond = 100;

    private readonly LogRateLimiter _limiter = new(time, TimeSpan.FromSeconds(1));
    private readonly LogRateLimiter _decisions = new(time, TimeSpan.FromSeconds(1), DecisionsPerSecond);

    public RoutingTelemetry Telemetry => telemetry;

    /// <summary>Gets the last decisions that were not plain matches, for the admin view.</summary>
    public DecisionLog Decisions { get; } = new();

    /// <summary>Finds the service of a request's host (without its port); records and logs a miss.</summary>
    public bool TryFindService(RoutingCatalog catalog, string host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoutedService? service)
    {
        if (catalog.Current.TryFind(host, out service))
        {
            return true;
        }

        telemetry.RecordNoRoute();
        if (_decisions.ShouldLog("no-route", "", out _))
        {
            Decisions.Add(new RecordedDecision(Decisions.NextSequence(), time.GetUtcNow(), null, Shorten(host), null));
        }

        if (logger.IsEnabled(LogLevel.Information) && _limiter.ShouldLog("no-route", "", out var suppressed))
        {
            // The host comes from the network: logged cut short, and never used as a metric tag.
            var shown = Shorten(host);
            Log.NoRoute(logger, shown, suppressed);
        }

        return false;
    }

    /// <summary>Routes a request with no VirtualService facts (a GET of <c>/</c>); for callers that have headers only.</summary>
    public Resolution Decide<THeaders>(RoutedService service, THeaders headers, Activity? activity)
        where THeaders : IHeaderSource =>
        Decide(service, new RouteRequest("GET", "/"), headers, activity).Resolution;

    /// <summary>
    /// Routes a request (the service's VirtualService routes, then the picked pool's resolution), records the decision as
    /// a metric and on <paramref name="activity"/>, and logs a request that no route or no endpoint can take.
    /// </summary>
    public RouteDecision Decide<THeaders>(RoutedService service, in RouteRequest request, THeaders headers, Activity? activity)
        where THeaders : IHeaderSource =>
        Decide(service, request, headers, headers, activity);

    /// <summary>Routes a request whose dynamic subset keys are read from other headers than its matches (a gateway's trusted view).</summary>
    public RouteDecision Decide<THeaders, TCriteria>(RoutedService service, in RouteRequest request, THeaders headers, TCriteria criteriaHeaders, Activity? activity)
        where THeaders : IHeaderSource
        where TCriteria : IHeaderSource
    {
        var decision = service.Route(request, headers, criteriaHeaders);
        if (decision.IsNoRoute)
        {
            NoRoute(service, request);
            return decision;
        }

        var pool = decision.Service;
        var resolution = decision.Resolution;
        telemetry.RecordResolution(pool.Name, resolution);
        if (resolution.Outcome != ResolutionOutcome.Matched && _decisions.ShouldLog("decision", pool.Name, out _))
        {
            // Only a request that did not match pays for this, and at most DecisionsPerSecond of them per service (a
            // service whose traffic all falls back would otherwise explain every request): its criteria are read
            // again, to say why.
            var explanation = Explanation.Of(pool.Name, pool.Resolver.Current, criteriaHeaders, resolution);
            Decisions.Add(new RecordedDecision(Decisions.NextSequence(), time.GetUtcNow(), pool.Name, null, explanation));
        }

        if (activity is { IsAllDataRequested: true })
        {
            RoutingActivityEnricher.Tag(activity, pool.Name, resolution);
        }

        if (!resolution.HasEndpoint && logger.IsEnabled(LogLevel.Warning) && _limiter.ShouldLog("no-healthy-upstream", pool.Name, out var suppressed))
        {
            Log.NoHealthyUpstream(logger, pool.Name, resolution.ToString(), suppressed);
        }

        return decision;
    }

    /// <summary>Records and logs a request that none of a service's VirtualService routes matches.</summary>
    public void NoRoute(RoutedService service, in RouteRequest request)
    {
        telemetry.RecordNoRoute();
        if (_decisions.ShouldLog("no-route", service.Name, out _))
        {
            Decisions.Add(new RecordedDecision(Decisions.NextSequence(), time.GetUtcNow(), service.Name, $"no route matches {Shorten(request.Method)} {Shorten(request.Path)}", null));
        }

        if (logger.IsEnabled(LogLevel.Information) && _limiter.ShouldLog("no-route", service.Name, out var missed))
        {
            var (method, path) = (Shorten(request.Method), Shorten(request.Path)); // from the network: cut short
            Log.NoMatchingRoute(logger, service.Name, method, path, missed);
        }
    }

    /// <summary>Records a retry on another endpoint of the same resolved set.</summary>
    public void Retrying(RoutedService service, Endpoint from, Endpoint to, RetryReason reason, string detail)
    {
        telemetry.RecordRetry(service.Name, reason);
        if (logger.IsEnabled(LogLevel.Information) && _limiter.ShouldLog("retry", service.Name, out var suppressed))
        {
            var why = ReasonName(reason);
            Log.Retrying(logger, service.Name, from.Authority, to.Authority, why, detail, suppressed);
        }
    }

    /// <summary>Records a request that failed after every try it was allowed.</summary>
    public void Failed(RoutedService service, Endpoint endpoint, string error)
    {
        if (logger.IsEnabled(LogLevel.Warning) && _limiter.ShouldLog("failed", service.Name, out var suppressed))
        {
            Log.Failed(logger, service.Name, endpoint.Authority, error, suppressed);
        }
    }

    /// <summary>Feeds outlier detection with a response; records and logs an ejection it causes.</summary>
    public void ReportResponse(RoutedService service, Endpoint endpoint, int statusCode)
    {
        if (service.Resolver.ReportResponse(endpoint, statusCode))
        {
            Ejected(service, endpoint, $"HTTP {statusCode}");
        }
    }

    /// <summary>Feeds outlier detection with a failure that got no response; records and logs an ejection it causes.</summary>
    public void ReportFailure(RoutedService service, Endpoint endpoint, RetryReason reason)
    {
        if (service.Resolver.ReportFailure(endpoint))
        {
            Ejected(service, endpoint, ReasonName(reason));
        }
    }

    private void Ejected(RoutedService service, Endpoint endpoint, string last)
    {
        telemetry.RecordEjection(service.Name);
        var until = service.Resolver.Ejections.FirstOrDefault(e => e.Address == endpoint.AddressKey).Until;
        Log.Ejected(logger, service.Name, endpoint.Authority, last, until); // at most one line per ejection: bounded
    }

    /// <summary>
    /// Whether a failed try may be sent again: after a connect failure nothing reached the endpoint, so any method may;
    /// otherwise the endpoint may have acted on it, so only an idempotent method (RFC 9110; methods are case-sensitive).
    /// </summary>
    public static bool MayRetry(RetryReason reason, string method) =>
        reason == RetryReason.ConnectFailure || method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    /// <summary>The shorter of two timeouts, where <see cref="Timeout.InfiniteTimeSpan"/> is the longest.</summary>
    public static TimeSpan Shorter(TimeSpan a, TimeSpan b) =>
        a == Timeout.InfiniteTimeSpan ? b : b == Timeout.InfiniteTimeSpan ? a : a < b ? a : b;

    /// <summary>What is left of an overall <paramref name="timeout"/> after <paramref name="elapsed"/> (never negative), or infinite.</summary>
    public static TimeSpan Remaining(TimeSpan timeout, TimeSpan elapsed)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var left = timeout - elapsed;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    public static string ReasonName(RetryReason reason) => reason switch
    {
        RetryReason.ConnectFailure => "connect-failure",
        RetryReason.Reset => "reset",
        RetryReason.Status => "retriable-status",
        _ => "per-try-timeout",
    };

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";

    private static partial class Log
    {
        [LoggerMessage(EventId = 20, EventName = "NoHealthyUpstream", Level = LogLevel.Warning,
            Message = "No healthy upstream for {Service}: {Resolution}. ({Suppressed} more like it in the last second)")]
        public static partial void NoHealthyUpstream(ILogger logger, string service, string resolution, long suppressed);

        [LoggerMessage(EventId = 21, EventName = "Retry", Level = LogLevel.Information,
            Message = "Retrying a request to {Service} on {Next} after {Reason} at {Endpoint}: {Detail} ({Suppressed} more like it in the last second)")]
        public static partial void Retrying(ILogger logger, string service, string endpoint, string next, string reason, string detail, long suppressed);

        [LoggerMessage(EventId = 23, EventName = "UpstreamFailed", Level = LogLevel.Warning,
            Message = "A request to {Endpoint} of {Service} failed: {Error}. ({Suppressed} more like it in the last second)")]
        public static partial void Failed(ILogger logger, string service, string endpoint, string error, long suppressed);

        [LoggerMessage(EventId = 25, EventName = "EndpointEjected", Level = LogLevel.Warning,
            Message = "Ejected {Endpoint} of {Service} after consecutive failures (the last: {Last}); it returns at {Until:o}.")]
        public static partial void Ejected(ILogger logger, string service, string endpoint, string last, DateTimeOffset until);

        [LoggerMessage(EventId = 26, EventName = "NoMatchingRoute", Level = LogLevel.Information,
            Message = "No VirtualService route of {Service} matches {Method} {Path}. ({Suppressed} more like it in the last second)")]
        public static partial void NoMatchingRoute(ILogger logger, string service, string method, string path, long suppressed);

        [LoggerMessage(EventId = 24, EventName = "NoRoute", Level = LogLevel.Information,
            Message = "No routed service for host '{Host}'. ({Suppressed} more like it in the last second)")]
        public static partial void NoRoute(ILogger logger, string host, long suppressed);
    }
}
