namespace DynamicSubset.Routing.Configuration;

/// <summary>A pool of the options' service: the whole service (key <c>""</c>) or a static subset (<c>/v1</c>), with its policy.</summary>
internal sealed record OptionsPool(string Key, string? Subset, RoutingPolicy Policy, IReadOnlyList<Endpoint> Endpoints);
