namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// The routing catalog of one service bound from <see cref="DynamicSubsetRoutingOptions"/> (appsettings.json and
/// friends): built at start and republished when the bound configuration changes. Its service takes every request,
/// whatever the host, since options name one service.
/// </summary>
/// <remarks>A change that fails validation is rejected whole: logged, recorded in <see cref="RoutingCatalog.Status"/>, and the last good snapshot keeps serving.</remarks>
public sealed class OptionsRoutingCatalog : RoutingCatalog
{
    private readonly OptionsSubsetResolver _options;
    private readonly string _name;

    /// <summary>Initializes a new instance of the <see cref="OptionsRoutingCatalog"/> class.</summary>
    /// <param name="options">The options-fed resolver.</param>
    /// <param name="host">The service's name; <see langword="null"/> for the options' <c>host</c>, or else the options name.</param>
    public OptionsRoutingCatalog(OptionsSubsetResolver options, string? host = null)
        : base($"options '{options?.Name}'")
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _name = host ?? options.Host ?? options.Name;
        PublishPlan();
        options.Reloaded += (_, _) => PublishPlan();
        options.ChangeRejected += (_, _) => ReportRejected($"configuration change of options '{options.Name}' rejected; version {Current.Version} keeps serving");
    }

    /// <summary>Publishes the service (with its routes, bound to its pools) and its subset pools, named <c>service/subset</c>.</summary>
    private void PublishPlan()
    {
        var plan = _options.Plan;
        var origin = $"options '{_options.Name}'";
        var pools = _options.Pools.ToDictionary(p => p.Key, p => new RoutedService(_name + p.Key, p.Value, origin: origin) { Protocol = plan.Protocol }, StringComparer.Ordinal);
        var entry = plan.Routes.Count == 0 ? pools[""] : new RoutedService(_name, pools[""].Resolver, origin: origin)
        {
            Protocol = plan.Protocol,
            Routes = [.. plan.Routes.Select(route => new HttpRouteRule(
                route.Destinations.Select(d => new RouteDestination(_name, d.Subset, pools[d.Pool], d.Weight)), route.Matches)
            {
                Name = route.Name,
                Retries = route.Retries,
                Timeout = route.Timeout,
            })],
        };
        Publish([entry, .. pools.Where(p => p.Key.Length > 0).Select(p => p.Value)], entry);
    }

    /// <summary>Gets the options-fed resolver.</summary>
    public OptionsSubsetResolver Options => _options;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _options.Dispose();
        base.Dispose(disposing);
    }
}
