namespace DynamicSubset.Routing;

/// <summary>
/// A catalog whose services are given in code: a static list, or one that the application updates itself (as
/// YARP's in-memory configuration provider).
/// </summary>
public sealed class InMemoryRoutingCatalog : RoutingCatalog
{
    /// <summary>Initializes a new instance of the <see cref="InMemoryRoutingCatalog"/> class with its first services.</summary>
    /// <param name="services">The services.</param>
    /// <param name="defaultService">The service for requests whose host names none; <see langword="null"/> for none.</param>
    /// <param name="description">What the catalog holds, for operators.</param>
    public InMemoryRoutingCatalog(IEnumerable<RoutedService> services, RoutedService? defaultService = null, string description = "in memory")
        : base(description)
    {
        ArgumentNullException.ThrowIfNull(services);
        Publish(services, defaultService);
    }

    /// <summary>Creates a catalog of one service that takes every request, whatever its host.</summary>
    /// <param name="name">The service's name.</param>
    /// <param name="policy">Its routing policy.</param>
    /// <param name="endpoints">Its endpoints.</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="RoutingValidationException">The endpoints are invalid.</exception>
    public static InMemoryRoutingCatalog ForService(string name, RoutingPolicy policy, IEnumerable<Endpoint> endpoints)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(endpoints);
        var service = new RoutedService(name, new SubsetResolver(SubsetIndex.Build(endpoints, policy)));
        return new InMemoryRoutingCatalog([service], service, $"static list '{name}'");
    }

    /// <summary>Replaces the services in one swap.</summary>
    /// <param name="services">The services.</param>
    /// <param name="defaultService">The service for requests whose host names none; <see langword="null"/> for none.</param>
    /// <returns>The published snapshot.</returns>
    public RoutingCatalogSnapshot Update(IEnumerable<RoutedService> services, RoutedService? defaultService = null) => Publish(services, defaultService);
}
