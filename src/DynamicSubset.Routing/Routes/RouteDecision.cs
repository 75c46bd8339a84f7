using System.Text.Json;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// Where a request went: the VirtualService route it matched (or none), the destination that route picked, and the
/// resolution inside that destination's pool.
/// </summary>
public readonly struct RouteDecision
{
    internal RouteDecision(RoutedService service, HttpRouteRule? route, int routeIndex, RouteDestination? destination, Resolution resolution, string? setCookie)
    {
        Service = service;
        Route = route;
        RouteIndex = routeIndex;
        Destination = destination;
        Resolution = resolution;
        SetCookie = setCookie;
    }

    /// <summary>Gets the pool the request was resolved in: the destination's, or the entry service itself when it has no routes.</summary>
    public RoutedService Service { get; }

    /// <summary>Gets the route that matched, or <see langword="null"/> when the service has no routes or none matched.</summary>
    public HttpRouteRule? Route { get; }

    /// <summary>Gets the matched route's index in <c>http[]</c>, or -1.</summary>
    public int RouteIndex { get; }

    /// <summary>Gets the destination the route picked, or <see langword="null"/>.</summary>
    public RouteDestination? Destination { get; }

    /// <summary>Gets the resolution inside the pool; <see cref="ResolutionOutcome.NoRoute"/> when <see cref="IsNoRoute"/>.</summary>
    public Resolution Resolution { get; }

    /// <summary>Gets a <c>Set-Cookie</c> value to add to the response (a generated affinity cookie), or <see langword="null"/>.</summary>
    public string? SetCookie { get; }

    /// <summary>Gets the index of the route's match block that selected it, or -1 (no route, or a route without <c>match</c>).</summary>
    public int MatchIndex { get; internal init; } = -1;

    /// <summary>Gets the route's match block that selected it, or <see langword="null"/>.</summary>
    public HttpRouteMatch? MatchedBlock => Route is { } route && MatchIndex >= 0 && MatchIndex < route.Matches.Length ? route.Matches[MatchIndex] : null;

    /// <summary>Gets a value indicating whether the route answers the request itself (a redirect or a direct response).</summary>
    public bool IsAnsweredByRoute => Resolution.Outcome == ResolutionOutcome.Answered;

    /// <summary>Gets a value indicating whether the service has routes and none matched: the request gets 404 <c>no route</c>.</summary>
    public bool IsNoRoute => Resolution.Outcome == ResolutionOutcome.NoRoute;

    /// <summary>Gets the route's label: its name, else its index as text; <see langword="null"/> without a route.</summary>
    public string? RouteLabel => Route is null ? null : Route.Name ?? RouteIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Writes the decision as one JSON object, a line of the batch contract (docs/cli.md): <c>{"endpoint", "subset",
    /// "fallback", "route", "destination": {"host", "subset"}}</c>; <c>{"error": "no healthy upstream", "route",
    /// "destination"}</c> when no endpoint can take it; <c>{"error": "no route"}</c> when no route matches. The
    /// <c>subset</c> and <c>fallback</c> fields are written as explanations write them.
    /// </summary>
    /// <param name="writer">The writer.</param>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        if (IsNoRoute)
        {
            writer.WriteString("error", "no route");
            writer.WriteEndObject();
            return;
        }

        if (Resolution.Endpoint is not { } endpoint)
        {
            writer.WriteString("error", "no healthy upstream");
        }
        else
        {
            writer.WriteString("endpoint", endpoint.Authority);
            DecisionJson.WriteSubset(writer, Resolution.Subset);
            DecisionJson.WriteFallback(writer, Resolution);
        }

        DecisionJson.WriteRoute(writer, RouteLabel, Destination, Service.Name);
        writer.WriteEndObject();
    }
}
