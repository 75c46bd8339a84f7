using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Where a document came from, and what it is.</summary>
/// <param name="Kind">The document's kind, for example <c>DestinationRule</c>.</param>
/// <param name="ApiVersion">The document's apiVersion.</param>
/// <param name="Name">metadata.name, or empty.</param>
/// <param name="Namespace">metadata.namespace, or <c>default</c>.</param>
/// <param name="File">The file it was read from.</param>
/// <param name="Line">The 1-based line where it starts.</param>
public sealed record MeshDocument(string Kind, string ApiVersion, string Name, string Namespace, string File, int Line);

/// <summary>A trafficPolicy as written: which top-level fields it sets, for Istio's subset merge (a subset's field replaces the rule's).</summary>
internal sealed record TrafficPolicyDoc(
    bool HasLoadBalancer, LoadBalancingPolicy? Simple, DynamicSubsetPolicy? DynamicSubset, MappingNode? DynamicSubsetNode, ConsistentHashPolicy? ConsistentHash,
    bool HasOutlierDetection, OutlierDetectionPolicy? OutlierDetection)
{
    public static TrafficPolicyDoc Empty { get; } = new(false, null, null, null, null, false, null);

    /// <summary>Istio's merge: each top-level field the subset sets replaces the rule's.</summary>
    public TrafficPolicyDoc MergedWith(TrafficPolicyDoc? subset) => subset is null ? this : new(
        HasLoadBalancer || subset.HasLoadBalancer,
        subset.HasLoadBalancer ? subset.Simple : Simple,
        subset.HasLoadBalancer ? subset.DynamicSubset : DynamicSubset,
        subset.HasLoadBalancer ? subset.DynamicSubsetNode : DynamicSubsetNode,
        subset.HasLoadBalancer ? subset.ConsistentHash : ConsistentHash,
        HasOutlierDetection || subset.HasOutlierDetection,
        subset.HasOutlierDetection ? subset.OutlierDetection : OutlierDetection);
}

internal sealed record SubsetDoc(string Name, Dictionary<string, string> Labels, TrafficPolicyDoc? Policy, YamlNode Node, string Path);

internal sealed class DestinationRuleDoc(MeshDocument info, string host, YamlNode hostNode, TrafficPolicyDoc policy, List<SubsetDoc> subsets)
{
    public MeshDocument Info { get; } = info;

    public string Host { get; } = host;

    public YamlNode HostNode { get; } = hostNode;

    public TrafficPolicyDoc TrafficPolicy { get; } = policy;

    /// <summary>Gets the dynamic subset policy, or null when the rule has none (its host is then routed as plain Istio does).</summary>
    public DynamicSubsetPolicy? Policy => TrafficPolicy.DynamicSubset;

    public MappingNode? DynamicSubsetNode => TrafficPolicy.DynamicSubsetNode;

    public List<SubsetDoc> Subsets { get; } = subsets;

    public string Fqdn => HostNames.ToFqdn(Host, Info.Namespace);
}

internal sealed record Destination(string Host, string? Subset, int? Port, long Weight, YamlNode Node, string Path)
{
    public YamlNode? SubsetNode { get; init; }
}

internal sealed record HttpRouteDoc(
    int Index, string? Name, List<HeaderMapping> Mappings, YamlNode? MappingsNode, List<HttpRouteMatch> Matches, List<Destination> Destinations,
    RouteRetryPolicy? Retries, TimeSpan? Timeout, YamlNode Node, string Path)
{
    public string Label => Name ?? Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

internal sealed record MeshRoute(HttpRouteDoc Doc, List<(string Pool, Destination Destination)> Destinations);

internal sealed record VirtualServiceDoc(MeshDocument Info, List<string> Hosts, List<HttpRouteDoc> Http, YamlNode? HostsNode);

internal sealed record ServicePort(int Port, string? Name, int? TargetPort, string? TargetPortName, YamlNode Node);

internal sealed record ServiceDoc(MeshDocument Info, Dictionary<string, string>? Selector, List<ServicePort> Ports, YamlNode Node)
{
    public string Fqdn => HostNames.ToFqdn(Info.Name, Info.Namespace);
}

internal sealed record PodDoc(MeshDocument Info, Dictionary<string, string> Labels, List<string> Ips, bool Ready, List<(string? Name, int Port)> ContainerPorts, YamlNode Node);

internal sealed record WorkloadDoc(
    MeshDocument Info, string Address, Dictionary<string, string> Labels, Dictionary<string, int> Ports, long Weight, YamlNode Node, string Path);

internal sealed record ServiceEntryPort(int Number, string? Name, int? TargetPort);

internal sealed record ServiceEntryDoc(
    MeshDocument Info, List<string> Hosts, List<ServiceEntryPort> Ports, List<WorkloadDoc> Endpoints, Dictionary<string, string>? WorkloadSelector, YamlNode Node);

/// <summary>Everything read from the files: documents by kind.</summary>
internal sealed class DocumentSet
{
    // Made on first use: a cluster keeps one set per object, and most objects fill one list of the seven.
    private List<MeshDocument>? _all;
    private List<DestinationRuleDoc>? _destinationRules;
    private List<VirtualServiceDoc>? _virtualServices;
    private List<ServiceDoc>? _services;
    private List<PodDoc>? _pods;
    private List<ServiceEntryDoc>? _serviceEntries;
    private List<WorkloadDoc>? _workloadEntries;

    public List<MeshDocument> All => _all ??= [];

    public List<DestinationRuleDoc> DestinationRules => _destinationRules ??= [];

    public List<VirtualServiceDoc> VirtualServices => _virtualServices ??= [];

    public List<ServiceDoc> Services => _services ??= [];

    public List<PodDoc> Pods => _pods ??= [];

    public List<ServiceEntryDoc> ServiceEntries => _serviceEntries ??= [];

    public List<WorkloadDoc> WorkloadEntries => _workloadEntries ??= [];

    public void AddRange(DocumentSet other)
    {
        // Reads the other set's fields, not its properties, so that merging never fills it with empty lists.
        Add(ref _all, other._all);
        Add(ref _destinationRules, other._destinationRules);
        Add(ref _virtualServices, other._virtualServices);
        Add(ref _services, other._services);
        Add(ref _pods, other._pods);
        Add(ref _serviceEntries, other._serviceEntries);
        Add(ref _workloadEntries, other._workloadEntries);
    }

    private static void Add<T>(ref List<T>? into, List<T>? from)
    {
        if (from is { Count: > 0 })
        {
            (into ??= []).AddRange(from);
        }
    }
}

/// <summary>Istio host names: a name without dots is short for <c>name.namespace.svc.cluster.local</c>.</summary>
public static class HostNames
{
    /// <summary>The cluster's DNS suffix.</summary>
    public const string ClusterSuffix = "svc.cluster.local";

    /// <summary>Expands a short host name as Istio does; a name with a dot is taken as written.</summary>
    /// <param name="host">The host as written, for example <c>helloworld</c>.</param>
    /// <param name="namespace">The namespace of the document that names it.</param>
    /// <returns>The fully qualified name, for example <c>helloworld.default.svc.cluster.local</c>.</returns>
    public static string ToFqdn(string host, string @namespace)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(@namespace);
        host = host.Trim().TrimEnd('.').ToLowerInvariant();
        return host.Contains('.', StringComparison.Ordinal) ? host : $"{host}.{@namespace}.{ClusterSuffix}";
    }

    /// <summary>
    /// Whether a request's host (a Host header without its port) names the service <paramref name="fqdn"/>,
    /// as a pod's DNS search path resolves it: <c>helloworld</c>, <c>helloworld.default</c>,
    /// <c>helloworld.default.svc</c> and the full name all name <c>helloworld.default.svc.cluster.local</c>.
    /// </summary>
    /// <param name="requestHost">The host the request names.</param>
    /// <param name="fqdn">The service's fully qualified name.</param>
    /// <returns><see langword="true"/> if they name the same service.</returns>
    public static bool Matches(string requestHost, string fqdn)
    {
        ArgumentNullException.ThrowIfNull(requestHost);
        ArgumentNullException.ThrowIfNull(fqdn);
        var host = requestHost.Trim().TrimEnd('.');
        if (string.Equals(host, fqdn, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        const string suffix = "." + ClusterSuffix;
        if (!fqdn.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var parts = fqdn[..^suffix.Length].Split('.'); // name.namespace
        return parts.Length == 2 &&
            (string.Equals(host, parts[0], StringComparison.OrdinalIgnoreCase) ||
             string.Equals(host, $"{parts[0]}.{parts[1]}", StringComparison.OrdinalIgnoreCase) ||
             string.Equals(host, $"{parts[0]}.{parts[1]}.svc", StringComparison.OrdinalIgnoreCase));
    }
}
