namespace DynamicSubset.Routing.Configuration;

/// <summary>A container port of a pod: its name (for a Service's named targetPort) and number.</summary>
/// <param name="Name">The port's name, or <see langword="null"/>.</param>
/// <param name="Number">The port number.</param>
public readonly record struct ContainerPort(string? Name, int Number);

/// <summary>What routing needs of a pod: the same fields a Pod document gives (see docs/configuration.md).</summary>
/// <param name="Name">The pod's name.</param>
/// <param name="Namespace">The pod's namespace.</param>
/// <param name="Labels">Its labels.</param>
/// <param name="Ips">Its IPs: <c>status.podIP</c>, then the other <c>status.podIPs</c>.</param>
/// <param name="Ready">Whether its <c>Ready</c> condition is <c>True</c>.</param>
/// <param name="ContainerPorts">Its containers' ports.</param>
public sealed record PodFacts(
    string Name,
    string Namespace,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> Ips,
    bool Ready,
    IReadOnlyList<ContainerPort> ContainerPorts);
