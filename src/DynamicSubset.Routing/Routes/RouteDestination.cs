namespace DynamicSubset.Routing;

/// <summary>
/// One destination of a route: a pool of endpoints (a service, or one of its static subsets) and its weight.
/// </summary>
public sealed class RouteDestination
{
    /// <summary>Initializes a new instance of the <see cref="RouteDestination"/> class.</summary>
    /// <param name="host">The destination host, as the route names it after expansion (<c>helloworld.default.svc.cluster.local</c>).</param>
    /// <param name="subset">The static subset's name, or <see langword="null"/> for the whole service.</param>
    /// <param name="service">The pool the destination routes into: its resolver holds the endpoints and the merged policy.</param>
    /// <param name="weight">The relative weight; ignored when the route has one destination.</param>
    public RouteDestination(string host, string? subset, RoutedService service, long weight = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentNullException.ThrowIfNull(service);
        if (weight is < 0 or > uint.MaxValue)
        {
            throw new RoutingValidationException("weight", $"{weight} is not between 0 and {uint.MaxValue}", nameof(weight));
        }

        Host = host;
        Subset = subset;
        Service = service;
        Weight = weight;
    }

    /// <summary>Gets or initializes the destination's own header operations (applied before the route's), or <see langword="null"/>.</summary>
    public HttpHeaderRules? Headers { get; init; }

    /// <summary>Gets the destination host.</summary>
    public string Host { get; }

    /// <summary>Gets the static subset's name, or <see langword="null"/>.</summary>
    public string? Subset { get; }

    /// <summary>Gets the pool.</summary>
    public RoutedService Service { get; }

    /// <summary>Gets the relative weight.</summary>
    public long Weight { get; }

    /// <inheritdoc />
    public override string ToString() => Subset is null ? Host : $"{Host} subset {Subset}";
}
