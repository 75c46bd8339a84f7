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
    /// <param name="destinations">The destinations. With more than one, weights pick among them (relative; at least one above 0).</param>
    /// <param name="matches">The match blocks, any of which selects the route; empty matches every request.</param>
    /// <exception cref="RoutingValidationException">No destination, or the weights are invalid.</exception>
    public HttpRouteRule(IEnumerable<RouteDestination> destinations, IEnumerable<HttpRouteMatch>? matches = null)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        Destinations = [.. destinations];
        Matches = [.. matches ?? []];
        if (Destinations.IsEmpty)
        {
            throw new RoutingValidationException("route", "at least one destination is needed", nameof(destinations));
        }

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

        if (total == 0)
        {
            throw new RoutingValidationException("route", $"{Destinations.Length} destinations and every weight is 0; give at least one a weight", nameof(destinations));
        }
    }

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

    /// <summary>Picks a destination by weight.</summary>
    internal RouteDestination PickDestination(Random? random)
    {
        var cumulative = _cumulative;
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
