namespace DynamicSubset.Routing;

/// <summary>A rejected update: when, what, and where. It quotes no configuration content.</summary>
/// <param name="At">When it was rejected.</param>
/// <param name="Summary">One line, such as <c>2 errors in helloworld.yaml; version 3 keeps serving</c>.</param>
/// <param name="Details">One line per problem, with its position.</param>
public sealed record RoutingCatalogError(DateTimeOffset At, string Summary, IReadOnlyList<string> Details);
