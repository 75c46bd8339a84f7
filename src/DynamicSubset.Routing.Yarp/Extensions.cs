using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using DynamicSubset.Routing.Yarp;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.AspNetCore.Builder;

/// <summary>YARP integration of DynamicSubset.Routing: the gateway and the proxy-pipeline step.</summary>
public static class DynamicSubsetYarpExtensions
{
    private const string LocalityFormat = "Locality must be region, region/zone or region/zone/subzone.";

    /// <summary>
    /// Registers the dynamic subset gateway over the application's routing catalog (register one first, for example
    /// with <c>AddDynamicSubsetCatalogFromFiles</c>). Map it with <see cref="MapDynamicSubsetGateway"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures retries, timeouts and trusted routing headers; <see langword="null"/> for the defaults.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetGateway(this IServiceCollection services, Action<DynamicSubsetGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHttpForwarder();
        services.AddDynamicSubsetRoutingPipeline();
        var options = services.AddOptions<DynamicSubsetGatewayOptions>()
            .Validate(static o => o.ConnectRetries is >= 0 and <= 16, "ConnectRetries must be from 0 to 16")
            .Validate(static o => o.MaxRetryBodySize is >= 0 and <= 64 * 1024 * 1024, "MaxRetryBodySize must be from 0 to 64 MiB")
            .Validate(static o => RetryRules.IsTimeout(o.PerTryTimeout) && RetryRules.IsTimeout(o.Timeout), RetryRules.TimeoutRange)
            .Validate(static o => o.Locality is null || DynamicSubset.Routing.Locality.TryParse(o.Locality, out _), LocalityFormat)
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // The admin view explains requests with the gateway's view of routing headers, so both decide alike.
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DynamicSubsetGatewayOptions>>().Value;
            return new TrustedRoutingHeaders(options.TrustedNetworks, options.TrustedValues);
        });
        // Likewise its identity (labels, locality): the admin view explains with the one the gateway routes with.
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DynamicSubsetGatewayOptions>>().Value;
            return Identity(options.SourceLabels, options.Locality);
        });
        services.TryAddSingleton(static sp => ActivatorUtilities.CreateInstance<DynamicSubsetGateway>(
            sp, sp.GetRequiredService<RoutingCatalogRegistry>().GetRequired(name: null, "The dynamic subset gateway")));
        return services;
    }

    /// <summary>
    /// Forwards every request to the endpoint dynamic subset routing chooses: the service is picked by the Host header
    /// (short names work); <c>no healthy upstream</c> is a 503, an unknown host a 404 <c>no route</c>. Register with
    /// <see cref="AddDynamicSubsetGateway"/>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>The endpoint convention builder.</returns>
    public static IEndpointConventionBuilder MapDynamicSubsetGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var gateway = endpoints.ServiceProvider.GetRequiredService<DynamicSubsetGateway>();
        return endpoints.Map("/{**path}", gateway.ForwardAsync);
    }

    /// <summary>
    /// Adds the YARP step that narrows a cluster's available destinations to the resolved subset, and forwards inside the
    /// pipeline's attempt loop: a route's <c>retries</c> and <c>timeout</c>, otherwise connect failures (and timed-out or
    /// reset tries of idempotent requests) retried on the rest of the subset. Put it before <c>UseLoadBalancing()</c>. A cluster is routed when the routing catalog
    /// registered under its id, or else the default one, has a service named by the cluster's
    /// <c>DynamicSubset.Service</c> metadata or by its id; destinations carry their labels in <c>Metadata</c>.
    /// </summary>
    /// <param name="proxyPipeline">The proxy pipeline.</param>
    /// <returns>The pipeline.</returns>
    public static IReverseProxyApplicationBuilder UseDynamicSubsets(this IReverseProxyApplicationBuilder proxyPipeline)
    {
        ArgumentNullException.ThrowIfNull(proxyPipeline);
        var services = proxyPipeline.ApplicationServices;
        var clusters = services.GetService<YarpClusterCatalog>() ?? throw new InvalidOperationException(
            "UseDynamicSubsets needs services.AddDynamicSubsetYarp() (and a routing catalog).");
        var registry = services.GetRequiredService<RoutingCatalogRegistry>();
        registry.Add(clusters);
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DynamicSubsetYarpOptions>>().Value;
        var mirrors = new Mirroring(
            DynamicSubsetGateway.CreateInvoker(null),
            services.GetService<Microsoft.Extensions.Logging.ILoggerFactory>()?.CreateLogger(typeof(Mirroring).FullName!) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            maxBody: 64 * 1024);
        var step = new YarpDynamicSubsets(registry, services.GetRequiredService<RoutingPipeline>(), clusters, Identity(options.SourceLabels, options.Locality), mirrors);
        proxyPipeline.Use(step.InvokeAsync);
        return proxyPipeline;
    }

    /// <summary>Registers the YARP step's catalog and transforms, and what it shares with the other entry points: the pipeline, the catalog registry and telemetry.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the proxy's own labels and locality; <see langword="null"/> for none.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetYarp(this IServiceCollection services, Action<DynamicSubsetYarpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddDynamicSubsetRoutingPipeline();
        var options = services.AddOptions<DynamicSubsetYarpOptions>()
            .Validate(static o => o.Locality is null || DynamicSubset.Routing.Locality.TryParse(o.Locality, out _), LocalityFormat)
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // Where no gateway says otherwise, the admin view explains with the proxy's identity.
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DynamicSubsetYarpOptions>>().Value;
            return Identity(options.SourceLabels, options.Locality);
        });

        services.TryAddSingleton<YarpClusterCatalog>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<global::Yarp.ReverseProxy.Transforms.Builder.ITransformProvider, DynamicSubsetTransformProvider>());
        return services;
    }

    /// <summary>An entry point's identity from its options (the locality was validated at start).</summary>
    private static EntryPointIdentity Identity(IDictionary<string, string> labels, string? locality) =>
        new(labels, locality is null ? null : DynamicSubset.Routing.Locality.Parse(locality));
}
