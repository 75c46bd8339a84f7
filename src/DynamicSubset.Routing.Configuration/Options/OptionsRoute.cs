namespace DynamicSubset.Routing.Configuration;

/// <summary>A route of the options' service, its destinations named by pool key.</summary>
internal sealed record OptionsRoute(string Name, System.Collections.Immutable.ImmutableArray<HttpRouteMatch> Matches, List<(string Pool, string? Subset, long Weight)> Destinations, RouteRetryPolicy? Retries, TimeSpan? Timeout);
