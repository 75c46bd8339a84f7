using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// The one step every entry point goes through (HttpClient handler, gateway, YARP step, admin explain, CLI), so that a
/// request is decided, tried, retried, recorded and logged the same way whichever door it came through: the service
/// lookup, the route and the resolution (<see cref="Decide{THeaders, TCriteria}"/>), the attempt loop
/// (<see cref="SendAsync"/>), their metrics, trace tags and logs, and the bodies of the answers the router makes itself.
/// </summary>
/// <remarks>One per service provider; register it with <c>AddDynamicSubsetRouting()</c> or any entry point's registration.</remarks>
public sealed partial class RoutingPipeline
{
    /// <summary>The body of a 503 when no endpoint can take a request, as the mesh proxy writes it.</summary>
    public const string NoHealthyUpstreamBody = "no healthy upstream";

    /// <summary>The body of a 404 when a request's host names no routed service, or no VirtualService route matches it.</summary>
    public const string NoRouteBody = "no route";

    /// <summary>The body of a 504 when every try timed out, as the mesh proxy writes it.</summary>
    public const string UpstreamTimeoutBody = "upstream request timeout";

    /// <summary>Envoy's body for a request that could not reach any endpoint it tried.</summary>
    public const string UpstreamConnectErrorBody = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

    /// <summary>The answer to a request the pool's connection limits refused, as Envoy words it.</summary>
    public const string OverflowBody = "upstream connect error or disconnect/reset before headers. reset reason: overflow";

    /// <summary>How many decisions that were not plain matches are kept per service per second; the counters count them all.</summary>
    public const int DecisionsPerSecond = 100;

    /// <summary>How many recent decisions are kept (<see cref="RecentDecisions"/>).</summary>
    public const int RecentDecisionCapacity = DecisionLog.DefaultCapacity;

    private readonly RoutingTelemetry _telemetry;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SubsetResolver, PoolGate> _gates = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LogRateLimiter _limiter;
    private readonly LogRateLimiter _decisions;
    private readonly DecisionLog _recent = new();

    internal RoutingPipeline(RoutingTelemetry telemetry, ILogger logger, TimeProvider time)
    {
        _telemetry = telemetry;
        _logger = logger;
        _time = time;
        _limiter = new(time, TimeSpan.FromSeconds(1));
        _decisions = new(time, TimeSpan.FromSeconds(1), DecisionsPerSecond);
    }

    internal RoutingTelemetry Telemetry => _telemetry;

    /// <summary>Gets the last decisions that were not plain matches (fallbacks, no healthy upstream, no route), newest first.</summary>
    /// <returns>At most <see cref="RecentDecisionCapacity"/> decisions.</returns>
    public IReadOnlyList<RecordedDecision> RecentDecisions() => _recent.Snapshot();

    /// <summary>Finds the service of a request's host (without its port); records and logs a miss.</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="host">The host, from the network.</param>
    /// <param name="service">The service found.</param>
    /// <returns><see langword="true"/> if the host names a service.</returns>
    public bool TryFindService(RoutingCatalog catalog, string host, [NotNullWhen(true)] out RoutedService? service)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(host);
        if (catalog.Current.TryFind(host, out service))
        {
            return true;
        }

        _telemetry.RecordNoRoute();
        if (_decisions.ShouldLog("no-route", "", out _))
        {
            _recent.Add(new RecordedDecision(_recent.NextSequence(), _time.GetUtcNow(), null, Shorten(host), null));
        }

        if (_logger.IsEnabled(LogLevel.Information) && _limiter.ShouldLog("no-route", "", out var suppressed))
        {
            // The host comes from the network: logged cut short, and never used as a metric tag.
            var shown = Shorten(host);
            Log.NoRoute(_logger, shown, suppressed);
        }

        return false;
    }

    /// <summary>
    /// Routes a request (the service's VirtualService routes, then the picked pool's resolution), records the decision as
    /// a metric and on <paramref name="activity"/>, and logs a request that no route or no endpoint can take.
    /// </summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="service">The service the request's host names.</param>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers.</param>
    /// <param name="activity">The activity to tag, or <see langword="null"/>.</param>
    /// <returns>The decision.</returns>
    public RouteDecision Decide<THeaders>(RoutedService service, in RouteRequest request, THeaders headers, Activity? activity)
        where THeaders : IHeaderSource =>
        Decide(service, request, headers, headers, activity);

    /// <summary>
    /// Routes a request whose dynamic subset keys are read from other headers than its matches and hash keys (a
    /// gateway's trusted view, <c>TrustedRoutingHeaders</c>), then records and logs it as the other overload does.
    /// </summary>
    /// <typeparam name="THeaders">The header source for matches and hash keys.</typeparam>
    /// <typeparam name="TCriteria">The header source for dynamic subset keys.</typeparam>
    /// <param name="service">The service the request's host names.</param>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers.</param>
    /// <param name="criteriaHeaders">The headers dynamic subset keys are read from.</param>
    /// <param name="activity">The activity to tag, or <see langword="null"/>.</param>
    /// <returns>The decision.</returns>
    public RouteDecision Decide<THeaders, TCriteria>(RoutedService service, in RouteRequest request, THeaders headers, TCriteria criteriaHeaders, Activity? activity)
        where THeaders : IHeaderSource
        where TCriteria : IHeaderSource
    {
        ArgumentNullException.ThrowIfNull(service);
        var decision = service.Route(request, headers, criteriaHeaders);
        if (decision.IsNoRoute)
        {
            NoRoute(service, request);
            return decision;
        }

        var pool = decision.Service;
        var resolution = decision.Resolution;
        _telemetry.RecordResolution(pool.Name, resolution);
        if (resolution.Outcome != ResolutionOutcome.Matched && _decisions.ShouldLog("decision", pool.Name, out _))
        {
            // Only a request that did not match pays for this, and at most DecisionsPerSecond of them per service (a
            // service whose traffic all falls back would otherwise explain every request): its criteria are read
            // again, to say why.
            var explanation = Explanation.Of(pool.Name, pool.Resolver.Current, criteriaHeaders, resolution);
            _recent.Add(new RecordedDecision(_recent.NextSequence(), _time.GetUtcNow(), pool.Name, null, explanation) { EntryService = service.Name, Request = request });
        }

        if (activity is { IsAllDataRequested: true })
        {
            RoutingActivityEnricher.Tag(activity, pool.Name, resolution);
        }

        if (!resolution.HasEndpoint && resolution.Outcome != ResolutionOutcome.Answered && _logger.IsEnabled(LogLevel.Warning) && _limiter.ShouldLog("no-healthy-upstream", pool.Name, out var suppressed))
        {
            Log.NoHealthyUpstream(_logger, pool.Name, resolution.ToString(), suppressed);
        }

        return decision;
    }

    /// <summary>
    /// Explains a request as <see cref="Decide{THeaders, TCriteria}"/> routes it (the same routes, the same view of the
    /// headers), without recording it: what the admin page and <c>dynsubset resolve</c> show.
    /// </summary>
    /// <typeparam name="THeaders">The header source for matches and hash keys.</typeparam>
    /// <typeparam name="TCriteria">The header source for dynamic subset keys.</typeparam>
    /// <param name="service">The service the request's host names.</param>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers.</param>
    /// <param name="criteriaHeaders">The headers dynamic subset keys are read from.</param>
    /// <returns>The explanation.</returns>
    public static Explanation Explain<THeaders, TCriteria>(RoutedService service, in RouteRequest request, THeaders headers, TCriteria criteriaHeaders)
        where THeaders : IHeaderSource
        where TCriteria : IHeaderSource
    {
        ArgumentNullException.ThrowIfNull(service);
        return Explanation.Of(service, request, headers, criteriaHeaders);
    }

    /// <summary>Records and logs a request that none of a service's VirtualService routes matches.</summary>
    /// <param name="service">The service.</param>
    /// <param name="request">The request.</param>
    internal void NoRoute(RoutedService service, in RouteRequest request)
    {
        _telemetry.RecordNoRoute();
        if (_decisions.ShouldLog("no-route", service.Name, out _))
        {
            _recent.Add(new RecordedDecision(_recent.NextSequence(), _time.GetUtcNow(), service.Name, $"no route matches {Shorten(request.Method)} {Shorten(request.Path)}", null) { EntryService = service.Name, Request = request });
        }

        if (_logger.IsEnabled(LogLevel.Information) && _limiter.ShouldLog("no-route", service.Name, out var missed))
        {
            var (method, path) = (Shorten(request.Method), Shorten(request.Path)); // from the network: cut short
            Log.NoMatchingRoute(_logger, service.Name, method, path, missed);
        }
    }

    /// <summary>
    /// Whether a failed try may be sent again: after a connect failure nothing reached the endpoint, so any method may;
    /// otherwise the endpoint may have acted on it, so only an idempotent method (RFC 9110; methods are case-sensitive).
    /// </summary>
    internal static bool MayRetry(RetryReason reason, string method) =>
        reason == RetryReason.ConnectFailure || method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    /// <summary>The shorter of two timeouts, where <see cref="Timeout.InfiniteTimeSpan"/> is the longest.</summary>
    internal static TimeSpan Shorter(TimeSpan a, TimeSpan b) =>
        a == Timeout.InfiniteTimeSpan ? b : b == Timeout.InfiniteTimeSpan ? a : a < b ? a : b;

    /// <summary>What is left of an overall <paramref name="timeout"/> after <paramref name="elapsed"/> (never negative), or infinite.</summary>
    internal static TimeSpan Remaining(TimeSpan timeout, TimeSpan elapsed)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var left = timeout - elapsed;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    internal static string ReasonName(RetryReason reason) => reason switch
    {
        RetryReason.ConnectFailure => "connect-failure",
        RetryReason.Reset => "reset",
        RetryReason.Status => "retriable-status",
        _ => "per-try-timeout",
    };

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
