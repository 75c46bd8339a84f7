using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.AspNetCore.Builder;

/// <summary>ASP.NET Core integration of DynamicSubset.Routing.</summary>
public static class DynamicSubsetAspNetCoreExtensions
{
    /// <summary>Registers routing-header propagation; add the middleware with <see cref="UseDynamicSubsetHeaderPropagation"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures which headers travel, and whether baggage carries them.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetHeaderPropagation(this IServiceCollection services, Action<RoutingHeaderPropagationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<RoutingHeaderPropagationOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return services;
    }

    /// <summary>
    /// Captures each inbound request's routing headers, so that HttpClient calls made while serving it carry them
    /// (clients with dynamic subset routing, or with <c>AddDynamicSubsetHeaderPropagation()</c>).
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static IApplicationBuilder UseDynamicSubsetHeaderPropagation(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<RoutingHeaderPropagationMiddleware>();
    }

    /// <summary>
    /// Shows another app's routing in this app's admin view: its routing catalogs, its recent decisions and its live
    /// numbers. For an admin listener hosted as an app of its own, so that the admin endpoints are never reachable
    /// through the traffic app's port (as <c>dynsubset serve --admin</c> does).
    /// </summary>
    /// <param name="services">The admin app's services.</param>
    /// <param name="trafficApp">The traffic app's service provider, already built.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetAdminOf(this IServiceCollection services, IServiceProvider trafficApp)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(trafficApp);
        services.AddSingleton(trafficApp.GetService<RoutingCatalogRegistry>() ?? new RoutingCatalogRegistry(trafficApp));
        if (trafficApp.GetService<RoutingPipeline>() is { } pipeline)
        {
            services.AddSingleton(pipeline);
        }

        // Explain decides as the traffic app routes: with its trusted networks and its own labels and locality.
        if (trafficApp.GetService<TrustedRoutingHeaders>() is { } trust)
        {
            services.AddSingleton(trust);
        }

        if (trafficApp.GetService<EntryPointIdentity>() is { } identity)
        {
            services.AddSingleton(identity);
        }

        if (trafficApp.GetService<System.Diagnostics.Metrics.IMeterFactory>() is { } meters)
        {
            // The live numbers come from the traffic app's meters, which are scoped to its factory.
            services.AddSingleton(new AdminMeters(meters));
        }

        return services;
    }

    /// <summary>
    /// Adds a health check of the routing catalogs (every catalog the app registered): unhealthy while one has never
    /// synced, degraded while one's source is unreachable and it serves its last state, healthy when all are in sync.
    /// Tag it (<c>tags: ["ready"]</c>) to make it a readiness probe's.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="tags">Tags, to filter by in <c>MapHealthChecks</c>.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddDynamicSubsetHealthChecks(this IHealthChecksBuilder builder, string name = "dynamic-subset-routing", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(name);
        builder.Services.TryAddSingleton(static sp => new RoutingCatalogRegistry(sp));
        return builder.Add(new HealthCheckRegistration(
            name,
            static sp => new RoutingCatalogHealthCheck(sp.GetRequiredService<RoutingCatalogRegistry>()),
            failureStatus: null,
            tags));
    }

    /// <summary>
    /// Maps the admin view under <paramref name="pattern"/>: the page an operator opens (<c>{pattern}/ui</c>), and the
    /// JSON it is built on, for scripts: the routing catalogs and every service's subsets (<c>{pattern}</c>), the last
    /// minute of resolutions by outcome (<c>{pattern}/stats</c>), the last 200 decisions that were not plain matches
    /// (<c>{pattern}/decisions</c>), and explain (<c>POST {pattern}/explain</c>). Map it on an admin listener or behind
    /// authorization: it is never mapped unless asked for, and it shows no configuration content.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The prefix.</param>
    /// <returns>The endpoint convention builder of the group, for authorization and the like.</returns>
    public static IEndpointConventionBuilder MapDynamicSubsetDebug(this IEndpointRouteBuilder endpoints, string pattern = "/debug/dynamic-subsets")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        return AdminEndpoints.Map(endpoints, pattern);
    }
}
