using DynamicSubset.Routing;
using DynamicSubset.Routing.Kubernetes;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Kubernetes cluster as a routing catalog.</summary>
public static class DynamicSubsetKubernetesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the application's routing catalog: the cluster's Pods, Services and Istio objects, watched through the
    /// API server. Every entry point that takes the default catalog uses it: HttpClients with
    /// <c>AddDynamicSubsetRouting()</c>, the gateway, the YARP step, the admin view.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Where the cluster is and what to watch; <see langword="null"/> for every namespace of the default kubeconfig or service account.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDynamicSubsetCatalogFromKubernetes(this IServiceCollection services, Action<KubernetesRoutingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.AddSingleton<RoutingCatalog>(sp =>
        {
            var options = new KubernetesRoutingOptions();
            configure?.Invoke(options);
            return new KubernetesRoutingCatalog(options, sp.GetService<ILogger<KubernetesRoutingCatalog>>(), sp.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        });
        return services;
    }
}
