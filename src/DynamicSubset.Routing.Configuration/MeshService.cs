using System.Collections.Immutable;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// One service routed with dynamic subsets: a DestinationRule's host with its policy, the header mappings of
/// the VirtualService route that sends traffic to it, and its endpoints.
/// </summary>
public sealed class MeshService
{
    internal MeshService(string host, string @namespace, string ruleName, ImmutableArray<string> hosts, int? port, RoutingPolicy policy, ImmutableArray<Endpoint> endpoints)
    {
        Host = host;
        Namespace = @namespace;
        RuleName = ruleName;
        Hosts = hosts;
        Port = port;
        Policy = policy;
        Endpoints = endpoints;
    }

    /// <summary>Gets the service's fully qualified host, for example <c>helloworld.default.svc.cluster.local</c>.</summary>
    public string Host { get; }

    /// <summary>Gets the DestinationRule's namespace.</summary>
    public string Namespace { get; }

    /// <summary>Gets the DestinationRule's name.</summary>
    public string RuleName { get; }

    /// <summary>Gets every host that names this service: its own, and the hosts of the VirtualServices that route to it.</summary>
    public ImmutableArray<string> Hosts { get; }

    /// <summary>Gets the service port the VirtualService routes to, or <see langword="null"/> when none is named.</summary>
    public int? Port { get; }

    /// <summary>Gets the routing policy.</summary>
    public RoutingPolicy Policy { get; }

    /// <summary>Gets the endpoints, from Pods selected by the Service, ServiceEntry endpoints, and WorkloadEntries.</summary>
    public ImmutableArray<Endpoint> Endpoints { get; }

    /// <summary>Builds a snapshot of this service.</summary>
    /// <returns>The snapshot.</returns>
    public SubsetIndex BuildIndex() => SubsetIndex.Build(Endpoints, Policy);

    /// <summary>Whether a request's host (without its port) names this service, short names included.</summary>
    /// <param name="requestHost">The host, for example <c>helloworld</c> or <c>helloworld.default</c>.</param>
    /// <returns><see langword="true"/> if it names this service.</returns>
    public bool Matches(string requestHost)
    {
        ArgumentNullException.ThrowIfNull(requestHost);
        foreach (var host in Hosts)
        {
            if (HostNames.Matches(requestHost, host))
            {
                return true;
            }
        }

        return false;
    }
}
