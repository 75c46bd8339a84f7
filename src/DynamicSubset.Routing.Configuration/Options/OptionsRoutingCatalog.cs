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
    private readonly RoutedService _service;

    /// <summary>Initializes a new instance of the <see cref="OptionsRoutingCatalog"/> class.</summary>
    /// <param name="options">The options-fed resolver.</param>
    /// <param name="host">The service's name; <see langword="null"/> for the options' <c>host</c>, or else the options name.</param>
    public OptionsRoutingCatalog(OptionsSubsetResolver options, string? host = null)
        : base($"options '{options?.Name}'")
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _service = new RoutedService(host ?? options.Host ?? options.Name, options.Resolver, origin: $"options '{options.Name}'");
        Publish([_service], _service);
        options.Reloaded += (_, _) => Publish([_service], _service);
        options.ChangeRejected += (_, _) => ReportRejected($"configuration change of options '{options.Name}' rejected; version {Current.Version} keeps serving");
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
