using DynamicSubset.Routing.Kubernetes;

namespace DynamicSubset.Routing.Cli;

/// <summary>The cluster as the CLI's source: <c>--kubernetes [--kubeconfig FILE] [--context NAME] [--namespace NS]...</c>.</summary>
internal sealed record ClusterSettings(string? Kubeconfig, string? Context, IReadOnlyList<string> Namespaces)
{
    /// <summary>How long the CLI waits for the first sync before it says the cluster cannot be reached.</summary>
    public static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(30);

    public async Task<RoutingCatalog> ConnectAsync(CliOutput output, CancellationToken cancellationToken)
    {
        var options = new KubernetesRoutingOptions { KubeconfigPath = Kubeconfig, Context = Context };
        foreach (var ns in Namespaces)
        {
            options.Namespaces.Add(ns);
        }

        KubernetesRoutingCatalog catalog;
        try
        {
            catalog = new KubernetesRoutingCatalog(options, Serve.Logger<KubernetesRoutingCatalog>(output));
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the kubeconfig: {e.Message}");
        }

        try
        {
            await catalog.WaitForSyncAsync(cancellationToken).WaitAsync(SyncTimeout, cancellationToken);
            return catalog;
        }
        catch (TimeoutException)
        {
            catalog.Dispose();
            throw new CliException($"cannot sync with the Kubernetes API server within {SyncTimeout.TotalSeconds:0} s (see the warnings above)");
        }
    }
}
