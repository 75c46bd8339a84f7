namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// How a pool gets endpoints from pods: a Service (its namespace and selector) and the service port the pool serves.
/// Kept with the compiled pool, so that a pod's change can be turned into the pool's endpoint changes without
/// compiling every pod again.
/// </summary>
internal sealed record PodSource(string Namespace, IReadOnlyDictionary<string, string> Selector, int Port, int? TargetPort, string? TargetPortName)
{
    /// <summary>Whether the Service selects the pod: same namespace, and every selector label.</summary>
    public bool Selects(PodDoc pod) =>
        pod.Info.Namespace == Namespace && Selector.All(l => pod.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

    /// <summary>The pod's port for this service port: the target port, the container port its name names, or the service port; null when the name names none.</summary>
    public int? TargetFor(PodDoc pod) =>
        TargetPort ?? (TargetPortName is { } name
            ? pod.ContainerPorts.FirstOrDefault(c => c.Name == name).Port is var p and > 0 ? p : null
            : Port);
}
