namespace DynamicSubset.Routing.Configuration;

internal sealed record MeshRoute(HttpRouteDoc Doc, List<(string Pool, Destination Destination)> Destinations, List<(string Pool, Destination Destination, double Percentage)> Mirrors);
