using DynamicSubset.Routing;
using DynamicSubset.Routing.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers dynamic subset routing bound from configuration.</summary>
public static class DynamicSubsetConfigurationServiceCollectionExtensions
{
    /// <summary>
    /// Binds named <see cref="DynamicSubsetRoutingOptions"/> to a configuration section, validates them at start
    /// (shape and routing rules), and registers an <see cref="OptionsSubsetResolver"/> keyed by <paramref name="name"/>
    /// that follows configuration changes.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The options name, usually the service or HttpClient name.</param>
    /// <param name="section">The section, for example <c>configuration.GetSection("Routing:helloworld")</c>.</param>
    /// <returns>The options builder, for further configuration.</returns>
    public static OptionsBuilder<DynamicSubsetRoutingOptions> AddDynamicSubsetRoutingOptions(
        this IServiceCollection services, string name, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(section);

        var builder = services.AddDynamicSubsetRoutingOptions(name, section.Path);
        builder.Bind(section);
        return builder;
    }

    /// <summary>
    /// Registers named <see cref="DynamicSubsetRoutingOptions"/> configured in code, validated at start, with an
    /// <see cref="OptionsSubsetResolver"/> keyed by <paramref name="name"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The options name.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The options builder.</returns>
    public static OptionsBuilder<DynamicSubsetRoutingOptions> AddDynamicSubsetRoutingOptions(
        this IServiceCollection services, string name, Action<DynamicSubsetRoutingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddDynamicSubsetRoutingOptions(name, $"options '{name}'").Configure(configure);
    }

    /// <summary>
    /// Registers the application's routing catalog: mesh YAML or JSON files, watched and reloaded live. Every entry
    /// point that takes the default catalog uses it: HttpClients with <c>AddDynamicSubsetRouting()</c>, the gateway,
    /// the YARP step, the admin view.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="paths">The files.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetCatalogFromFiles(this IServiceCollection services, IEnumerable<string> paths) =>
        services.AddDynamicSubsetCatalogFromFiles(paths, configure: null);

    /// <summary>Registers the application's routing catalog from mesh YAML or JSON files, with tuning.</summary>
    /// <param name="services">The services.</param>
    /// <param name="paths">The files.</param>
    /// <param name="configure">Tunes reloading and the reader's limits; <see langword="null"/> for the defaults.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetCatalogFromFiles(this IServiceCollection services, IEnumerable<string> paths, Action<MeshConfigurationWatcherOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(paths);
        string[] files = [.. paths];
        services.AddSingleton<RoutingCatalog>(sp => CreateWatcher(sp, files, configure));
        return services;
    }

    /// <summary>
    /// Registers a named routing catalog (keyed by <paramref name="name"/>): mesh YAML or JSON files, watched and
    /// reloaded live. An HttpClient of that name, or a YARP cluster of that id, uses it instead of the default one.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The catalog's name: an HttpClient's name or a YARP cluster id.</param>
    /// <param name="paths">The files.</param>
    /// <param name="configure">Tunes reloading and the reader's limits; <see langword="null"/> for the defaults.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetCatalogFromFiles(this IServiceCollection services, string name, IEnumerable<string> paths, Action<MeshConfigurationWatcherOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(paths);
        string[] files = [.. paths];
        services.AddKeyedSingleton<RoutingCatalog>(name, (sp, _) => CreateWatcher(sp, files, configure));
        return services;
    }

    /// <summary>
    /// Registers a named routing catalog (keyed by <paramref name="name"/>) of one service bound from a configuration
    /// section, validated at start and reloaded on change. Its service takes every request of the HttpClient or YARP
    /// cluster of that name.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The catalog's name: an HttpClient's name or a YARP cluster id.</param>
    /// <param name="section">The section, for example <c>configuration.GetSection("Routing:helloworld")</c>.</param>
    /// <returns>The options builder.</returns>
    public static OptionsBuilder<DynamicSubsetRoutingOptions> AddDynamicSubsetCatalogFromOptions(this IServiceCollection services, string name, IConfigurationSection section)
    {
        var builder = services.AddDynamicSubsetRoutingOptions(name, section);
        services.AddKeyedSingleton<RoutingCatalog>(name, static (sp, key) => new OptionsRoutingCatalog(sp.GetRequiredKeyedService<OptionsSubsetResolver>(key)));
        return builder;
    }

    /// <summary>Registers a named routing catalog (keyed by <paramref name="name"/>) of one service configured in code, validated at start.</summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The catalog's name: an HttpClient's name or a YARP cluster id.</param>
    /// <param name="configure">Configures the rules and endpoints.</param>
    /// <returns>The options builder.</returns>
    public static OptionsBuilder<DynamicSubsetRoutingOptions> AddDynamicSubsetCatalogFromOptions(this IServiceCollection services, string name, Action<DynamicSubsetRoutingOptions> configure)
    {
        var builder = services.AddDynamicSubsetRoutingOptions(name, configure);
        services.AddKeyedSingleton<RoutingCatalog>(name, static (sp, key) => new OptionsRoutingCatalog(sp.GetRequiredKeyedService<OptionsSubsetResolver>(key)));
        return builder;
    }

    private static MeshConfigurationWatcher CreateWatcher(IServiceProvider sp, string[] files, Action<MeshConfigurationWatcherOptions>? configure)
    {
        var options = new MeshConfigurationWatcherOptions();
        configure?.Invoke(options);
        return new MeshConfigurationWatcher(files, sp.GetService<ILogger<MeshConfigurationWatcher>>(), options);
    }

    private static OptionsBuilder<DynamicSubsetRoutingOptions> AddDynamicSubsetRoutingOptions(this IServiceCollection services, string name, string where)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DynamicSubsetRoutingOptions>, DynamicSubsetRoutingOptionsValidator>());
        services.AddSingleton<IValidateOptions<DynamicSubsetRoutingOptions>>(new DynamicSubsetRoutingOptionsRulesValidator(name, where));
        services.TryAddKeyedSingleton(name, static (sp, key) => new OptionsSubsetResolver(
            (string)key!,
            sp.GetRequiredService<IOptionsMonitor<DynamicSubsetRoutingOptions>>(),
            sp.GetRequiredService<IOptionsMonitorCache<DynamicSubsetRoutingOptions>>(),
            sp.GetServices<IOptionsChangeTokenSource<DynamicSubsetRoutingOptions>>(),
            sp.GetService<ILogger<OptionsSubsetResolver>>() ?? NullLogger<OptionsSubsetResolver>.Instance));
        return services.AddOptions<DynamicSubsetRoutingOptions>(name).ValidateOnStart();
    }
}
