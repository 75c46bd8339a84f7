namespace DynamicSubset.Routing.Configuration.Tests;

internal static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "TestData", name);

    public static string Reference(string name) => Path(System.IO.Path.Combine("reference", name));

    public static MeshConfiguration Load(params string[] referenceFiles) => MeshConfiguration.Load(referenceFiles.Select(Reference));

    public static MeshConfiguration Parse(string yaml, string name = "test.yaml") => MeshConfiguration.Parse([new ConfigurationText(name, yaml)]);

    public static IEnumerable<string> Lines(this MeshConfiguration config, DiagnosticSeverity severity) =>
        config.Diagnostics.Where(d => d.Severity == severity).Select(d => $"{d.Code} {d}");

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
}
