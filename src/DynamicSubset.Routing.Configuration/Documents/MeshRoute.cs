namespace DynamicSubset.Routing.Configuration;

internal sealed record MeshRoute(HttpRouteDoc Doc, List<(string Pool, Destination Destination)> Destinations);
