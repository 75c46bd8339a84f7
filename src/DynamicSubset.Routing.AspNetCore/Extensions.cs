using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
    /// (clients with dynamic subset routing, or with <c>AddRoutingHeaderPropagation()</c>).
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static IApplicationBuilder UseDynamicSubsetHeaderPropagation(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<RoutingHeaderPropagationMiddleware>();
    }

    /// <summary>Registers a dynamic subset gateway over mesh YAML or JSON files, watched and reloaded live.</summary>
    /// <param name="services">The services.</param>
    /// <param name="paths">The files.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetGateway(this IServiceCollection services, IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(paths);
        string[] files = [.. paths];
        services.AddHttpForwarder();
        services.TryAddSingleton(sp => new MeshConfigurationWatcher(files, sp.GetService<ILogger<MeshConfigurationWatcher>>()));
        services.TryAddSingleton<DynamicSubsetGateway>();
        return services;
    }

    /// <summary>
    /// Forwards every request to the endpoint dynamic subset routing chooses: the service is picked by the Host header
    /// (short names work); <c>no healthy upstream</c> is a 503. Register with <see cref="AddDynamicSubsetGateway"/>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>The endpoint convention builder.</returns>
    public static IEndpointConventionBuilder MapDynamicSubsetGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var gateway = endpoints.ServiceProvider.GetRequiredService<DynamicSubsetGateway>();
        return endpoints.Map("/{**path}", gateway.ForwardAsync);
    }

    /// <summary>Serves the live routing snapshot as JSON: configuration version, load time, last error, subsets.</summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route.</param>
    /// <returns>The endpoint convention builder.</returns>
    public static IEndpointConventionBuilder MapDynamicSubsetDebug(this IEndpointRouteBuilder endpoints, string pattern = "/debug/dynamic-subsets")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGet(pattern, DebugView.WriteAsync);
    }

    /// <summary>
    /// Adds the YARP step that narrows a cluster's available destinations to the resolved subset. Put it before
    /// <c>UseLoadBalancing()</c>; a cluster is routed when <c>AddDynamicSubsetRoutingOptions(clusterId, ...)</c>
    /// registers its rules, and its destinations carry their labels in <c>Metadata</c>.
    /// </summary>
    /// <param name="proxyPipeline">The proxy pipeline.</param>
    /// <returns>The pipeline.</returns>
    public static IReverseProxyApplicationBuilder UseDynamicSubsets(this IReverseProxyApplicationBuilder proxyPipeline)
    {
        ArgumentNullException.ThrowIfNull(proxyPipeline);
        var step = new YarpDynamicSubsets(proxyPipeline.ApplicationServices.GetRequiredService<IOptionsMonitor<DynamicSubsetRoutingOptions>>());
        proxyPipeline.Use(step.InvokeAsync);
        return proxyPipeline;
    }
}
