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
