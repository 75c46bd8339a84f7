using System.Globalization;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>Synthetic services: every endpoint has its own IP, and stage (4 values) x version (5 values) labels.</summary>
internal static class Synthetic
{
    public static readonly string[] Stages = ["dev", "test", "staging", "prod"];
    public static readonly string[] Versions = ["v1", "v2", "v3", "v4", "v5"];

    public static Endpoint[] Endpoints(int count)
    {
        if (count == 6)
        {
            return SeedTopology.Endpoints();
        }

        var endpoints = new Endpoint[count];
        for (var i = 0; i < count; i++)
        {
            endpoints[i] = Create(i, Stages[i % Stages.Length], Versions[i / Stages.Length % Versions.Length]);
        }

        return endpoints;
    }

    public static Endpoint Create(int i, string stage, string version) => Endpoint.Create(
        $"10.{(i >> 16).ToString(CultureInfo.InvariantCulture)}.{((i >> 8) & 255).ToString(CultureInfo.InvariantCulture)}.{(i & 255).ToString(CultureInfo.InvariantCulture)}",
        8080,
        new Dictionary<string, string> { ["app"] = "svc", ["stage"] = stage, ["version"] = version });

    /// <summary>Two selector keys plus a %ip% selector, as the performance issue asks.</summary>
    public static RoutingPolicy Policy() => new(
        new DynamicSubsetPolicy([new SubsetSelector("stage", "version"), new SubsetSelector(BuiltInKeys.IP)]),
        [new HeaderMapping("x-version", "version", "v3"), new HeaderMapping("x-stage", "stage", "prod"), new HeaderMapping("x-ip", BuiltInKeys.IP)]);
}

/// <summary>The reference page's six pods and its VirtualService's two mappings.</summary>
internal static class SeedTopology
{
    public static Endpoint[] Endpoints() =>
    [
        Pod("192.168.0.5", "dev", "v1"),
        Pod("192.168.0.1", "dev", "v2"),
        Pod("192.168.0.252", "dev", "v3"),
        Pod("192.168.0.103", "prod", "v2"),
        Pod("192.168.0.104", "prod", "v3"),
        Pod("192.168.0.6", "prod", "v3"),
    ];

    public static RoutingPolicy Policy() => new(
        new DynamicSubsetPolicy([new SubsetSelector("stage", "version")]),
        [new HeaderMapping("x-version", "version", "v3"), new HeaderMapping("x-stage", "stage", "prod")]);

    private static Endpoint Pod(string ip, string stage, string version) =>
        Endpoint.Create(ip, 5678, new Dictionary<string, string> { ["app"] = "helloworld", ["stage"] = stage, ["version"] = version });
}
