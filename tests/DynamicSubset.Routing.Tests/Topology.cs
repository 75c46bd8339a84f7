namespace DynamicSubset.Routing.Tests;

/// <summary>The reference page's helloworld topology and its DestinationRule / VirtualService variants.</summary>
internal static class Topology
{
    public const int Port = 5678;

    /// <summary>The pods of the page's subset table: dev v1, v2, v3; prod v2; prod v3 with two replicas.</summary>
    public static IReadOnlyList<Endpoint> Helloworld { get; } =
    [
        Pod("helloworld-dev-v1-67b6876778-nf7pz", "192.168.0.5", "dev", "v1"),
        Pod("helloworld-dev-v2-68f65bbc99-v957l", "192.168.0.1", "dev", "v2"),
        Pod("helloworld-dev-v3-7f6978bc56-hqzgg", "192.168.0.252", "dev", "v3"),
        Pod("helloworld-prod-v2-b5745b949-p8rc4", "192.168.0.103", "prod", "v2"),
        Pod("helloworld-prod-v3-6768bf56f8-6bd6h", "192.168.0.104", "prod", "v3"),
        Pod("helloworld-prod-v3-6768bf56f8-x2x9q", "192.168.0.6", "prod", "v3"),
    ];

    /// <summary>The page's VirtualService: x-version -> version (default v3), x-stage -> stage (default prod).</summary>
    public static HeaderMapping[] StageVersionMappings { get; } =
    [
        new("x-version", "version", "v3"),
        new("x-stage", "stage", "prod"),
    ];

    public static Endpoint Pod(string name, string ip, string stage, string version, bool healthy = true, long weight = 1) =>
        Endpoint.Create(ip, Port, Labels(("app", "helloworld"), ("stage", stage), ("version", version)), healthy, weight, name);

    public static Dictionary<string, string> Labels(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public static Dictionary<string, string> Headers(params (string Name, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>Step 2/3: one selector {stage, version} with an optional selector policy.</summary>
    public static RoutingPolicy StageVersion(
        FallbackPolicy? selectorPolicy = null,
        FallbackPolicy global = FallbackPolicy.NoFallback,
        (string, string)[]? defaultSubset = null,
        LoadBalancingPolicy loadBalancing = LoadBalancingPolicy.LeastRequest) =>
        new(
            new DynamicSubsetPolicy(
                [new SubsetSelector(["stage", "version"], selectorPolicy)],
                global,
                defaultSubset is null ? null : Labels(defaultSubset)),
            StageVersionMappings,
            loadBalancing);

    /// <summary>Step 4: one selector {%ip%}, x-ip -> %ip%, and a default subset that no policy uses.</summary>
    public static RoutingPolicy IpPinning() =>
        new(
            new DynamicSubsetPolicy([new SubsetSelector(BuiltInKeys.IP)], defaultSubset: Labels(("stage", "prod"), ("version", "v3"))),
            [new HeaderMapping("x-ip", BuiltInKeys.IP)]);

    public static SubsetResolver Resolver(RoutingPolicy policy, IEnumerable<Endpoint>? endpoints = null, int seed = 1) =>
        new(SubsetIndex.Build(endpoints ?? Helloworld, policy), new Random(seed));

    public static string Ip(this Resolution resolution) =>
        resolution.Endpoint?.AddressText ?? "no healthy upstream";

    public static HashSet<string> Ips(this SubsetResolver resolver, Dictionary<string, string> headers, int times = 200)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < times; i++)
        {
            seen.Add(resolver.Resolve(headers).Ip());
        }

        return seen;
    }
}
