using System.Runtime.CompilerServices;

namespace DynamicSubset.Routing;

/// <summary>
/// Routes recorded requests under the configuration before and after an edit, and counts those that go somewhere else
/// (<see cref="ReplaySummary.Moved"/>), by where they went and where they go. Memory grows with the number of distinct
/// outcomes, not with the number of requests.
/// </summary>
/// <remarks>
/// Each side decides as serving does (<see cref="RoutedService.Route{THeaders}"/>: the same route matches and the same
/// resolution), except that a route with several weighted destinations is not a coin toss here: the request is
/// resolved in each destination, and its outcome names them all with their weights, so that replaying a configuration
/// against itself moves nothing, and a change of weights moves the route's requests.
/// </remarks>
public sealed class RequestReplay
{
    private const int MaxExamples = 3;

    private readonly RoutingCatalogSnapshot _before;
    private readonly RoutingCatalogSnapshot _after;
    private readonly Dictionary<string, Tally> _services = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<Subset, string> _subsetNames = [];

    /// <summary>Initializes a new instance of the <see cref="RequestReplay"/> class.</summary>
    /// <param name="before">The catalog as it is.</param>
    /// <param name="after">The catalog with the edit applied.</param>
    public RequestReplay(RoutingCatalogSnapshot before, RoutingCatalogSnapshot after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        (_before, _after) = (before, after);
    }

    /// <summary>Routes one request on both sides and counts it.</summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="service">The service the request's host names (its name or an alias, as serving finds it).</param>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers.</param>
    /// <param name="describe">Describes the request, called only when it is kept as one of a move's examples.</param>
    /// <returns><see langword="true"/> if the request goes somewhere else after the edit.</returns>
    public bool Add<THeaders>(string service, in RouteRequest request, THeaders headers, Func<string> describe)
        where THeaders : IHeaderSource
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(describe);
        var from = Outcome(_before, service, request, headers);
        var to = Outcome(_after, service, request, headers);
        var key = _before.TryFindByName(service, out var found) || _after.TryFindByName(service, out found) ? found.Name : service;
        if (!_services.TryGetValue(key, out var tally))
        {
            _services[key] = tally = new Tally();
        }

        tally.Total++;
        if (ReferenceEquals(from, to) || string.Equals(from, to, StringComparison.Ordinal))
        {
            return false;
        }

        tally.Moved++;
        if (!tally.Transitions.TryGetValue((from, to), out var move))
        {
            tally.Transitions[(from, to)] = move = new Move();
        }

        move.Count++;
        if (move.Examples.Count < MaxExamples)
        {
            move.Examples.Add(describe());
        }

        return true;
    }

    /// <summary>Gets the counts so far, one summary per service, by name.</summary>
    /// <returns>The summaries.</returns>
    public IReadOnlyList<ReplaySummary> Summaries() =>
        [.. _services.OrderBy(static s => s.Key, StringComparer.Ordinal).Select(static s => new ReplaySummary(
            s.Key,
            s.Value.Total,
            s.Value.Moved,
            [.. s.Value.Transitions
                .OrderByDescending(static t => t.Value.Count)
                .ThenBy(static t => t.Key.From, StringComparer.Ordinal)
                .ThenBy(static t => t.Key.To, StringComparer.Ordinal)
                .Select(static t => new RequestTransition(t.Key.From, t.Key.To, t.Value.Count, [.. t.Value.Examples]))]))];

    private string Outcome<THeaders>(RoutingCatalogSnapshot catalog, string host, in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource
    {
        if (!catalog.TryFindByName(host, out var service))
        {
            return "no service";
        }

        if (service.Routes.IsEmpty)
        {
            return Resolved(service.Route(request, headers).Resolution);
        }

        var index = service.Table!.FirstMatch(request, headers, out _);
        if (index < 0)
        {
            return "no route";
        }

        var route = service.Routes[index];
        if (route.Redirect is { } redirect)
        {
            return $"redirect {redirect.RedirectCode}";
        }

        if (route.DirectResponse is { } direct)
        {
            return $"direct response {direct.Status}";
        }

        var destinations = route.Destinations;
        if (destinations.Length == 1)
        {
            // A route to the service's own pool says only the outcome; another host or a subset is named.
            var only = destinations[0];
            var resolved = Resolved(only.Service.Route(request, headers).Resolution);
            return only.Subset is null && string.Equals(only.Host, service.Name, StringComparison.Ordinal) ? resolved : $"{Name(only)}: {resolved}";
        }

        var total = destinations.Sum(static d => d.Weight);
        var parts = new string[destinations.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var d = destinations[i];
            var share = total == 0 ? 100.0 / parts.Length : 100.0 * d.Weight / total;
            parts[i] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name(d)} {share:0.#}%: {Resolved(d.Service.Route(request, headers).Resolution)}");
        }

        return string.Join("; ", parts);
    }

    private static string Name(RouteDestination destination) => destination.Subset is null ? destination.Host : $"{destination.Host}/{destination.Subset}";

    private string Resolved(Resolution resolution) => resolution.Outcome switch
    {
        ResolutionOutcome.Matched => resolution.Subset is { } s ? SubsetName(s) : "any endpoint",
        ResolutionOutcome.Fallback => $"fallback {resolution.FallbackPolicy!.Value.ToMeshName()}" + (resolution.Subset is { } s ? $" ({SubsetName(s)})" : ""),
        ResolutionOutcome.NoRoute => "no route",
        ResolutionOutcome.Answered => "answered by the route",
        _ => "no healthy upstream",
    };

    private string SubsetName(Subset subset) => _subsetNames.GetValue(subset, static s => s.ToString());

    private sealed class Tally
    {
        public long Total;
        public long Moved;
        public readonly Dictionary<(string From, string To), Move> Transitions = [];
    }

    private sealed class Move
    {
        public long Count;
        public readonly List<string> Examples = [];
    }
}
