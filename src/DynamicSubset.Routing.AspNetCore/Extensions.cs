using DynamicSubset.Routing.AspNetCore;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

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
    /// Serves the application's routing catalogs as JSON: each one's source, version, load time, sync state and last
    /// rejected edit (its positions, never its content), and every service's subsets, endpoints and ejections.
    /// Map it on an admin listener or behind authorization: it is never mapped unless asked for.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route.</param>
    /// <returns>The endpoint convention builder.</returns>
    public static IEndpointConventionBuilder MapDynamicSubsetDebug(this IEndpointRouteBuilder endpoints, string pattern = "/debug/dynamic-subsets")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        return endpoints.MapGet(pattern, DebugView.WriteAsync);
    }
}
