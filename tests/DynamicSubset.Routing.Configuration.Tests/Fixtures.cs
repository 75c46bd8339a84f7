namespace DynamicSubset.Routing.Configuration.Tests;

internal static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "TestData", name);

    public static string Reference(string name) => Path(System.IO.Path.Combine("reference", name));

    public static MeshConfiguration Load(params string[] referenceFiles) => MeshConfiguration.Load(referenceFiles.Select(Reference));

    public static MeshConfiguration Parse(string yaml, string name = "test.yaml") => MeshConfiguration.Parse([new ConfigurationText(name, yaml)]);

    public static IEnumerable<string> Lines(this MeshConfiguration config, DiagnosticSeverity severity) =>
        config.Diagnostics.Where(d => d.Severity == severity).Select(d => $"{d.Code} {d}");

    /// <summary>The configuration's services as every source publishes them (<see cref="MeshServiceResolvers"/>): pools, then entries with their routes.</summary>
    public static IReadOnlyList<RoutedService> Publish(this MeshConfiguration config)
    {
        var resolvers = new MeshServiceResolvers();
        return resolvers.Publish(resolvers.Build(config), static s => s.Host);
    }

    /// <summary>The published service a host names, as a catalog finds it (short names work).</summary>
    public static RoutedService Find(this MeshConfiguration config, string host) => new Published(config).Current.TryFind(host, out var service) ? service : throw new KeyNotFoundException(host);

    public static Dictionary<string, string> Headers(params (string Name, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>A DestinationRule up to its dynamicSubset key (9 lines), for tests that write the rest.</summary>
    public const string DrHeader = """
        apiVersion: networking.istio.io/v1beta1
        kind: DestinationRule
        metadata:
          name: helloworld
        spec:
          host: helloworld
          trafficPolicy:
            loadBalancer:
              dynamicSubset:

        """;

    public const string Dr = DrHeader + """
                subsetSelectors:
                  - keys: [stage, version]
        """;

    public const string Vs = """
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata:
          name: helloworld
        spec:
          hosts: [helloworld]
          http:
            - headerToDynamicSubsetKey:
                - header: x-version
                  key: version
                - header: x-stage
                  key: stage
              route:
                - destination:
                    host: helloworld
                    port:
                      number: 8000
        """;

    private sealed class Published : RoutingCatalog
    {
        public Published(MeshConfiguration config)
            : base("test") => Publish(config.Publish());
    }
}
