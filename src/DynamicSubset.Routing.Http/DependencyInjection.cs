using DynamicSubset.Routing;
using DynamicSubset.Routing.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds dynamic subset routing to a named HttpClient.</summary>
public static class DynamicSubsetHttpClientBuilderExtensions
{
    /// <summary>
    /// Routes the client's requests with the application's routing catalog: the one registered under the client's
    /// name if there is one (<c>AddDynamicSubsetCatalogFromOptions(name, ...)</c>), otherwise the default one
    /// (<c>AddDynamicSubsetCatalogFromFiles(...)</c>, or any <see cref="RoutingCatalog"/> singleton). Each request goes
    /// to the service its host names (or <see cref="DynamicSubsetHttpOptions.Service"/>); requests to other hosts pass
    /// through untouched.
    /// </summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRouting(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.Name;
        return builder.AddCore(sp => sp.GetRequiredService<RoutingCatalogRegistry>().GetRequired(name, $"HttpClient '{name}'"));
    }

    /// <summary>Routes the client's requests with a catalog of the caller's own.</summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="catalog">Creates the catalog; called once, and the catalog is shared by every handler of the client.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetRouting(this IHttpClientBuilder builder, Func<IServiceProvider, RoutingCatalog> catalog)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(catalog);
        builder.Services.AddKeyedSingleton(builder.Name, (sp, _) => catalog(sp));
        return builder.AddDynamicSubsetRouting();
    }

    /// <summary>Routes every request of the client with a fixed policy over a static endpoint list.</summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <param name="policy">The routing policy.</param>
    /// <param name="endpoints">The endpoints.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="RoutingValidationException">The endpoints are invalid (checked here, at registration).</exception>
    public static IHttpClientBuilder AddDynamicSubsetRouting(this IHttpClientBuilder builder, RoutingPolicy policy, IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(endpoints);
        var catalog = InMemoryRoutingCatalog.ForService(builder.Name, policy, endpoints);
        return builder.AddDynamicSubsetRouting(_ => catalog);
    }

    /// <summary>
    /// Routes every request of the client with a fixed policy over endpoints that <typeparamref name="TSource"/> pushes
    /// (a registry, a discovery client). The source is created from the service provider and started once.
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
        var name = builder.Name;
        return builder.AddDynamicSubsetRouting(sp => new EndpointSourceRoutingCatalog(
            name, policy, sp.GetRequiredService<TSource>(), Logger(sp, typeof(EndpointSourceRoutingCatalog))));
    }

    /// <summary>
    /// Makes the client carry the routing headers of the request being served (see <see cref="RoutingHeaderContext"/>).
    /// Clients with dynamic subset routing carry them already; add this to clients that go through a mesh proxy.
    /// </summary>
    /// <param name="builder">The HttpClient builder.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddDynamicSubsetHeaderPropagation(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddHttpMessageHandler(static () => new RoutingHeaderPropagationHandler());
    }

    /// <summary>Configures the handler of this client: the service, Host header, failures, retries, timeouts.</summary>
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

    private static IHttpClientBuilder AddCore(this IHttpClientBuilder builder, Func<IServiceProvider, RoutingCatalog> findCatalog)
    {
        var name = builder.Name;
        var services = builder.Services;
        services.AddDynamicSubsetRoutingPipeline();

        // Only the handler needs it: its listener makes every HttpClient in the process start HttpClient's activity
        // machinery (an async frame and a sampling call per request), which a gateway alone never reads.
        RoutingActivityEnricher.EnsureStarted();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DynamicSubsetHttpOptions>, DynamicSubsetHttpOptionsValidator>());
        services.AddOptions<DynamicSubsetHttpOptions>(name)
            .Validate(static o => RetryRules.IsTimeout(o.PerTryTimeout) && RetryRules.IsTimeout(o.Timeout), RetryRules.TimeoutRange)
            .ValidateOnStart();

        // The handler is created per pipeline (IHttpClientFactory recycles them); the catalog, once per client.
        services.AddKeyedSingleton(name, (sp, _) => new RoutedClient(findCatalog(sp)));

        // A GrpcChannel over this client would otherwise balance by itself: finding a SocketsHttpHandler at the end of
        // the chain, it connects to the address's own host (which resolves to nothing here) and routes past us. This
        // property, Grpc.Net.Client's documented switch, turns its balancing off, so each call comes through routing.
        builder.ConfigurePrimaryHttpMessageHandler(static (handler, _) =>
        {
            if (handler is SocketsHttpHandler sockets)
            {
                sockets.Properties[GrpcLoadBalancingDisabled] = true;
                sockets.ConnectCallback ??= PoolConnections.ConnectAsync; // a pool's tcp.connectTimeout, where the client sets no connect step of its own
            }
        });
        return builder.AddHttpMessageHandler(sp =>
        {
            var catalog = sp.GetRequiredKeyedService<RoutedClient>(name).Catalog;
            var options = sp.GetRequiredService<IOptionsMonitor<DynamicSubsetHttpOptions>>().Get(name);
            var current = catalog.Current;
            if (options.Service is { } pinned && catalog.Status.SyncState == RoutingCatalogSyncState.Synced && !current.TryFind(pinned, out _))
            {
                // A typo here would send every request past routing: fail when the client is made instead.
                var known = string.Join(", ", current.Services.Select(static s => s.Name));
                throw new InvalidOperationException(
                    $"HttpClient '{name}' routes every request to service '{pinned}', which the routing catalog ({catalog.Description}) does not have (services: {(known.Length == 0 ? "none" : known)}).");
            }

            return new DynamicSubsetHandler(catalog, options, sp.GetRequiredService<RoutingPipeline>());
        });
    }

    /// <summary>
    /// Registers what every entry point shares: the <see cref="RoutingPipeline"/> (the decision step and the attempt
    /// loop), the <see cref="RoutingCatalogRegistry"/>, and telemetry. Each entry point's registration calls it; call it
    /// yourself to use the pipeline from an entry point of your own.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetRoutingPipeline(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.TryAddSingleton<RoutingTelemetry>();
        services.TryAddSingleton(static sp => new RoutingPipeline(
            sp.GetRequiredService<RoutingTelemetry>(), Logger(sp, typeof(RoutingPipeline)), sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddSingleton(static sp => new RoutingCatalogRegistry(sp));
        return services;
    }
    /// <summary>The <see cref="SocketsHttpHandler.Properties"/> key by which Grpc.Net.Client leaves a handler's connections to it.</summary>
    private const string GrpcLoadBalancingDisabled = "__GrpcLoadBalancingDisabled";

    internal static ILogger Logger(IServiceProvider sp, Type type) =>
        sp.GetService<ILoggerFactory>()?.CreateLogger(type.FullName!) ?? NullLogger.Instance;
}

/// <summary>The catalog a named client routes with.</summary>
internal sealed record RoutedClient(RoutingCatalog Catalog);
