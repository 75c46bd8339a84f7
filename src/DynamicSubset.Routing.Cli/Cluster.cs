using DynamicSubset.Routing.Kubernetes;

namespace DynamicSubset.Routing.Cli;

/// <summary>The cluster as the CLI's source: <c>--kubernetes [--kubeconfig FILE] [--context NAME] [--namespace NS]...</c>.</summary>
internal sealed record ClusterSettings(string? Kubeconfig, string? Context, IReadOnlyList<string> Namespaces)
{
    /// <summary>How long the CLI waits for the first sync before it says the cluster cannot be reached.</summary>
    public static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(30);

    public async Task<RoutingCatalog> ConnectAsync(CliOutput output, CancellationToken cancellationToken)
    {
        var catalog = Create(output);
        try
        {
            await WaitForSyncAsync(catalog, cancellationToken);
            return catalog;
        }
        catch
        {
            catalog.Dispose();
            throw;
        }
    }

    /// <summary>Creates the catalog, which starts watching; it has routed nothing until its first sync.</summary>
    public RoutingCatalog Create(CliOutput output)
    {
        var options = new KubernetesRoutingOptions { KubeconfigPath = Kubeconfig, Context = Context };
        foreach (var ns in Namespaces)
        {
            options.Namespaces.Add(ns);
        }

        try
        {
            return new KubernetesRoutingCatalog(options, Serve.Logger<KubernetesRoutingCatalog>(output));
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the kubeconfig: {e.Message}");
        }
    }

    /// <summary>Waits for the catalog's first sync, at most <see cref="SyncTimeout"/>; past it the cluster cannot be reached (exit 2).</summary>
    public static async Task WaitForSyncAsync(RoutingCatalog catalog, CancellationToken cancellationToken)
    {
        try
        {
            await ((KubernetesRoutingCatalog)catalog).WaitForSyncAsync(cancellationToken).WaitAsync(SyncTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new CliException($"cannot sync with the Kubernetes API server within {SyncTimeout.TotalSeconds:0} s (see the warnings above)");
        }
    }
}
