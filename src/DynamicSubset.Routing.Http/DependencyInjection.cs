using DynamicSubset.Routing;
using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds dynamic subset routing to a named HttpClient.</summary>
public static class DynamicSubsetHttpClientBuilderExtensions
{
    /// <summary>
    /// Routes the client's requests with rules and endpoints bound from configuration (the same fields as the mesh
    /// YAML; see <see cref="DynamicSubsetRoutingOptions"/>), validated at start and reloaded on change. The handler's
    /// own settings (<see cref="DynamicSubsetHttpOptions"/>) bind from the same section.
    /// </summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRouting(this IHttpClientBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        builder.Services.AddDynamicSubsetRoutingOptions(builder.Name, section);
        builder.Services.AddOptions<DynamicSubsetHttpOptions>(builder.Name).Bind(section);
        return builder.AddFromOptions();
    }

    /// <summary>Routes the client's requests with rules and endpoints configured in code.</summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="configure">Configures the rules and endpoints.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRouting(this IHttpClientBuilder builder, Action<DynamicSubsetRoutingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddDynamicSubsetRoutingOptions(builder.Name, configure);
        return builder.AddFromOptions();
    }

    /// <summary>Routes the client's requests with rules and endpoints configured in code, with access to services.</summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="configure">Configures the rules and endpoints.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRouting(this IHttpClientBuilder builder, Action<DynamicSubsetRoutingOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddDynamicSubsetRoutingOptions(builder.Name, static _ => { }).Configure<IServiceProvider>((o, sp) => configure(o, sp));
        return builder.AddFromOptions();
    }

    /// <summary>Routes the client's requests with a fixed policy over a static endpoint list.</summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="policy">The routing policy.</param>
    /// <param name="endpoints">The endpoints.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRouting(this IHttpClientBuilder builder, RoutingPolicy policy, IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(endpoints);
        var index = SubsetIndex.Build(endpoints, policy); // invalid endpoints fail here, at registration
        return builder.AddCore(sp => new FixedRoutingSource(builder.Name, new SubsetResolver(index), sp.GetRequiredService<RoutingTelemetry>()));
    }

    /// <summary>
    /// Routes the client's requests with a fixed policy over endpoints that <typeparamref name="TSource"/> pushes (a
    /// registry, a discovery client). The source is created from the service provider and started once.
    /// </summary>
    /// <typeparam name="TSource">The endpoint source.</typeparam>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="policy">The routing policy.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRouting<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] TSource>(
        this IHttpClientBuilder builder, RoutingPolicy policy)
        where TSource : class, IEndpointSource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(policy);
        builder.Services.TryAddSingleton<TSource>();
        return builder.AddCore(sp =>
        {
            var telemetry = sp.GetRequiredService<RoutingTelemetry>();
            var resolver = new SubsetResolver(SubsetIndex.Build([], policy));
            var publisher = new EndpointPublisher(resolver, builder.Name, telemetry, Logger(sp, typeof(EndpointPublisher)));
            var routing = new FixedRoutingSource(builder.Name, resolver, telemetry, sp.GetRequiredService<TSource>().Start(publisher));
            return routing;
        });
    }

    /// <summary>
    /// Routes the client's requests from mesh YAML or JSON files, watched and reloaded live. Each request goes to the
    /// service its own host names (<c>helloworld</c>, <c>helloworld.default</c>, the full name, or a VirtualService
    /// host); requests to other hosts pass through untouched.
    /// </summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="paths">The files.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRoutingFromFiles(this IHttpClientBuilder builder, IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(paths);
        return builder.AddFromFiles([.. paths], host: null);
    }

    /// <summary>Routes every request of the client to the service <paramref name="host"/>, from mesh YAML or JSON files watched and reloaded live.</summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="paths">The files.</param>
    /// <param name="host">The service's host, or a short name of it.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRoutingFromFiles(this IHttpClientBuilder builder, IEnumerable<string> paths, string host)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        return builder.AddFromFiles([.. paths], host);
    }

    /// <summary>
    /// Makes the client carry the routing headers of the request being served (see <see cref="RoutingHeaderContext"/>).
    /// Clients with dynamic subset routing carry them already; add this to clients that go through a mesh proxy.
    /// </summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddRoutingHeaderPropagation(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddHttpMessageHandler(static () => new RoutingHeaderPropagationHandler());
    }

    /// <summary>Configures the handler of this client: Host header, 503 or exception, connect retries.</summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder ConfigureDynamicSubsetHandler(this IHttpClientBuilder builder, Action<DynamicSubsetHttpOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }

    private static IHttpClientBuilder AddFromOptions(this IHttpClientBuilder builder) =>
        builder.AddCore(sp =>
        {
            var options = sp.GetRequiredKeyedService<OptionsSubsetResolver>(builder.Name);
            var telemetry = sp.GetRequiredService<RoutingTelemetry>();
            options.ChangeRejected += (_, _) => telemetry.RecordUpdate(builder.Name, applied: false);
            return new FixedRoutingSource(builder.Name, options.Resolver, telemetry);
        });

    private static IHttpClientBuilder AddFromFiles(this IHttpClientBuilder builder, string[] paths, string? host) =>
        builder.AddCore(sp => new WatcherRoutingSource(
            new MeshConfigurationWatcher(paths, sp.GetService<ILogger<MeshConfigurationWatcher>>()), host, sp.GetRequiredService<RoutingTelemetry>()));

    private static IHttpClientBuilder AddCore(this IHttpClientBuilder builder, Func<IServiceProvider, RoutingSource> createSource)
    {
        var name = builder.Name;
        var services = builder.Services;
        services.AddMetrics();
        services.TryAddSingleton<RoutingTelemetry>();
        services.TryAddSingleton(static sp => new DynamicSubsetRoutes(sp, sp.GetServices<RoutedClient>()));
        services.AddSingleton(new RoutedClient(name));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DynamicSubsetHttpOptions>, DynamicSubsetHttpOptionsValidator>());
        services.AddOptions<DynamicSubsetHttpOptions>(name).ValidateOnStart();
        services.AddKeyedSingleton<RoutingSource>(name, (sp, _) =>
        {
            var source = createSource(sp);
            sp.GetRequiredService<RoutingTelemetry>().Register(source);
            return source;
        });

        RoutingActivityEnricher.EnsureStarted();
        return builder.AddHttpMessageHandler(sp => new DynamicSubsetHandler(
            sp.GetRequiredKeyedService<RoutingSource>(name),
            sp.GetRequiredService<IOptionsMonitor<DynamicSubsetHttpOptions>>().Get(name),
            sp.GetRequiredService<RoutingTelemetry>(),
            Logger(sp, typeof(DynamicSubsetHandler))));
    }

    private static ILogger Logger(IServiceProvider sp, Type type) =>
        sp.GetService<ILoggerFactory>()?.CreateLogger(type.FullName!) ?? NullLogger.Instance;
}
