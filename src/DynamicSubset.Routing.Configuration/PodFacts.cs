namespace DynamicSubset.Routing.Configuration;

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
