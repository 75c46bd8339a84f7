using DynamicSubset.Routing.Configuration;
using k8s;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>Where the cluster is, what to watch, and how to follow it.</summary>
public sealed class KubernetesRoutingOptions
{
    /// <summary>
    /// Gets or sets the kubeconfig file. <see langword="null"/> (the default): the in-cluster service account when running
    /// in a pod, else <c>KUBECONFIG</c> or <c>~/.kube/config</c>.
    /// </summary>
    public string? KubeconfigPath { get; set; }

    /// <summary>Gets or sets the kubeconfig context; <see langword="null"/> for its current context.</summary>
    public string? Context { get; set; }

    /// <summary>Gets or sets a client configuration to use as it is, instead of the kubeconfig or the service account.</summary>
    public KubernetesClientConfiguration? ClientConfiguration { get; set; }

    /// <summary>Gets the namespaces to watch; empty (the default) for all.</summary>
    public IList<string> Namespaces { get; } = [];

    /// <summary>Gets or sets a label selector that narrows the pods watched, for example <c>app=helloworld</c>.</summary>
    public string? PodLabelSelector { get; set; }

    /// <summary>
    /// Gets or sets how many objects one list request asks for (<c>limit</c>); the rest follow with the <c>continue</c>
    /// token, as client-go's reflector pages, so a first sync of a large namespace is never one response of hundreds of MB.
    /// </summary>
    /// <value>Defaults to 500, client-go's page size; 0 lists everything in one response.</value>
    public int ListPageSize { get; set; } = 500;

    /// <summary>Gets or sets how long a burst of changes must be quiet before it is published.</summary>
    /// <value>Defaults to 50 ms.</value>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Gets or sets the longest a change waits for its burst to end, counted from the change's arrival (a change that
    /// arrives while the last batch is applied has waited from then on); the apply and the publish follow.
    /// </summary>
    /// <value>Defaults to 250 ms.</value>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets or sets the first wait before reconnecting to an API server that cannot be reached; it doubles up to <see cref="MaxBackoff"/>, with jitter.</summary>
    /// <value>Defaults to 200 ms.</value>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the longest wait between reconnections.</summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets what the reader accepts, as for files.</summary>
    /// <value>Defaults to <see cref="MeshConfigurationLimits.Default"/>.</value>
    public MeshConfigurationLimits Limits { get; set; } = MeshConfigurationLimits.Default;

    /// <summary>Gets or sets the clock.</summary>
    /// <value>Defaults to <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal KubernetesClientConfiguration Build()
    {
        if (ClientConfiguration is { } given)
        {
            return given;
        }

        if (KubeconfigPath is null && Context is null && KubernetesClientConfiguration.IsInCluster())
        {
            return KubernetesClientConfiguration.InClusterConfig();
        }

        return KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath, Context);
    }
}
