using System.Globalization;
using System.Collections.Immutable;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// One entry of a VirtualService's <c>http</c> list: when it applies (<see cref="Matches"/>), where it sends
/// (<see cref="Destinations"/>, by weight), and how it retries and times out.
/// </summary>
public sealed class HttpRouteRule
{
    private readonly long[] _cumulative;

    /// <summary>Initializes a new instance of the <see cref="HttpRouteRule"/> class.</summary>
    /// <param name="destinations">
    /// The destinations. With more than one, weights pick among them (relative; at least one above 0). Empty only for a
    /// route that answers itself (<see cref="Redirect"/> or <see cref="DirectResponse"/>), which the service checks.
    /// </param>
    /// <param name="matches">The match blocks, any of which selects the route; empty matches every request.</param>
    /// <exception cref="RoutingValidationException">The weights are invalid.</exception>
    public HttpRouteRule(IEnumerable<RouteDestination> destinations, IEnumerable<HttpRouteMatch>? matches = null)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        Destinations = [.. destinations];
        Matches = [.. matches ?? []];
        for (var i = 0; i < Destinations.Length; i++)
        {
            if (Destinations[i] is null)
            {
                throw new RoutingValidationException($"route[{i}]", "destination must not be null", nameof(destinations));
            }
        }

        for (var i = 0; i < Matches.Length; i++)
        {
            if (Matches[i] is null)
            {
                throw new RoutingValidationException($"match[{i}]", "match must not be null", nameof(matches));
            }
        }

        _cumulative = new long[Destinations.Length];
        long total = 0;
        for (var i = 0; i < Destinations.Length; i++)
        {
            total += Destinations.Length == 1 ? 1 : Destinations[i].Weight;
            _cumulative[i] = total;
        }

        if (total == 0 && !Destinations.IsEmpty)
        {
            throw new RoutingValidationException("route", $"{Destinations.Length} destinations and every weight is 0; give at least one a weight", nameof(destinations));
        }
    }

    /// <summary>Gets or initializes the redirect the route answers with, or <see langword="null"/>. Such a route has no destination.</summary>
    public HttpRedirect? Redirect { get; init; }

    /// <summary>Gets or initializes the fixed response the route answers with, or <see langword="null"/>. Such a route has no destination.</summary>
    public HttpDirectResponse? DirectResponse { get; init; }

    /// <summary>Gets a value indicating whether the route answers requests itself (<see cref="Redirect"/> or <see cref="DirectResponse"/>), with no destination.</summary>
    public bool AnswersItself => Redirect is not null || DirectResponse is not null;

    /// <summary>Gets or initializes the path and authority rewrite, or <see langword="null"/>.</summary>
    public HttpRewrite? Rewrite { get; init; }

    /// <summary>Gets or initializes the route's header operations (after a destination's own), or <see langword="null"/>.</summary>
    public HttpHeaderRules? Headers { get; init; }

    /// <summary>Gets or initializes the fault injection, or <see langword="null"/>.</summary>
    public HttpFault? Fault { get; init; }

    /// <summary>Gets or initializes the mirrors: where copies of the route's requests go.</summary>
    public ImmutableArray<HttpMirror> Mirrors { get => field.IsDefault ? [] : field; init; }

    /// <summary>Gets or initializes the CORS policy, or <see langword="null"/>.</summary>
    public HttpCorsPolicy? CorsPolicy { get; init; }

    /// <summary>Gets a value indicating whether a request through this route needs more than forwarding: a rewrite, header changes, a fault, mirrors or CORS.</summary>
    public bool HasActions
    {
        get
        {
            // Read per request: worked out once (a benign race; every thread computes the same value).
            if (_hasActions == 0)
            {
                var any = Rewrite is not null || Headers is not null || Fault is not null || !Mirrors.IsEmpty || CorsPolicy is not null;
                foreach (var destination in Destinations)
                {
                    any |= destination.Headers is not null;
                }

                _hasActions = any ? 1 : 2;
            }

            return _hasActions == 1;
        }
    }

    private int _hasActions;

    /// <summary>Gets or initializes the route's name (<c>http[].name</c>), or <see langword="null"/>.</summary>
    public string? Name { get; init; }

    /// <summary>Gets the match blocks; empty matches every request.</summary>
    public ImmutableArray<HttpRouteMatch> Matches { get; }

    /// <summary>Gets the destinations.</summary>
    public ImmutableArray<RouteDestination> Destinations { get; }

    /// <summary>Gets or initializes the retries, or <see langword="null"/> for the entry point's default.</summary>
    public RouteRetryPolicy? Retries { get; init; }

    /// <summary>
    /// Gets or initializes the overall timeout: <see langword="null"/> for the entry point's default, or
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none (Istio's <c>timeout: 0s</c>).
    /// </summary>
    public TimeSpan? Timeout
    {
        get;
        init => field = value is null || value > TimeSpan.Zero || value == System.Threading.Timeout.InfiniteTimeSpan
            ? value
            : throw new RoutingValidationException("timeout", "must be positive, or Timeout.InfiniteTimeSpan for none", nameof(Timeout));
    }

    /// <summary>What the route does besides choosing a destination, for explanations: empty when nothing, else <c>"; then ..."</c>.</summary>
    internal string DescribeActions()
    {
        var parts = new List<string>();
        if (CorsPolicy is not null)
        {
            parts.Add("CORS");
        }

        if (Fault is { } fault)
        {
            if (fault.Delay > TimeSpan.Zero)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"fault delay {fault.Delay.TotalSeconds:0.###}s ({fault.DelayPercentage:0.##}%)"));
            }

            if (fault.AbortStatus is not null || fault.AbortGrpcStatus is not null)
            {
                var status = fault.AbortStatus is { } http ? $"HTTP {http}" : $"gRPC status {fault.AbortGrpcStatus}";
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"fault abort {status} ({fault.AbortPercentage:0.##}%)"));
            }
        }

        if (Redirect is { } redirect)
        {
            var to = string.Join(" ", new[] { redirect.Scheme, redirect.Authority, redirect.Port?.ToString(CultureInfo.InvariantCulture), redirect.Uri }.OfType<string>());
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"redirect {redirect.RedirectCode}{(to.Length == 0 ? "" : " to " + to)}"));
        }

        if (DirectResponse is { } direct)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"direct response {direct.Status} ({direct.Body.Length} bytes)"));
        }

        if (Rewrite is { } rewrite)
        {
            parts.Add("rewrite" + (rewrite.Uri is { } uri ? $" uri to {uri}" : "") + (rewrite.UriRegex is { } regex ? $" uri /{regex}/ to {rewrite.UriRegexReplacement}" : "") +
                (rewrite.Authority is { } authority ? $" authority to {authority}" : ""));
        }

        if (Headers is not null || Destinations.Any(static d => d.Headers is not null))
        {
            parts.Add("header operations");
        }

        foreach (var mirror in Mirrors)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"mirror to {mirror.Destination} ({mirror.Percentage:0.##}%)"));
        }

        return parts.Count == 0 ? "" : "; then " + string.Join(", ", parts);
    }

    /// <summary>Picks a destination by weight.</summary>
    internal RouteDestination? PickDestination(Random? random)
    {
        var cumulative = _cumulative;
        if (cumulative.Length == 0)
        {
            return null; // a route that answers itself
        }

        if (cumulative.Length == 1)
        {
            return Destinations[0];
        }

        var at = random is null ? FastRandom.NextInt64(cumulative[^1]) : random.NextInt64(cumulative[^1]);
        var i = 0;
        while (cumulative[i] <= at)
        {
            i++;
        }

        return Destinations[i];
    }
}
