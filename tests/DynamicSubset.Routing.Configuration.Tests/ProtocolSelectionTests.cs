using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>The upstream HTTP version, as Istio selects it: the Service port's appProtocol, else its name; then the DestinationRule's connectionPool.http.</summary>
public class ProtocolSelectionTests
{
    [Theory]
    [InlineData("name: grpc", null, UpstreamProtocol.Http2)]
    [InlineData("name: grpc-api", null, UpstreamProtocol.Http2)]
    [InlineData("name: grpc-web", null, UpstreamProtocol.Http2)]
    [InlineData("name: http2", null, UpstreamProtocol.Http2)]
    [InlineData("name: h2c-internal", null, UpstreamProtocol.Http2)]
    [InlineData("name: HTTP-web", null, UpstreamProtocol.Http1)]
    [InlineData("name: tcp", null, UpstreamProtocol.ClientProtocol)]
    [InlineData("name: web", null, UpstreamProtocol.ClientProtocol)]
    [InlineData("name: web, appProtocol: grpc", null, UpstreamProtocol.Http2)]
    [InlineData("name: grpc, appProtocol: http", null, UpstreamProtocol.Http1)]
    [InlineData("name: web, appProtocol: kubernetes.io/h2c", null, UpstreamProtocol.Http2)]
    [InlineData("name: web, appProtocol: kubernetes.io/ws", null, UpstreamProtocol.Http1)]
    [InlineData("name: http", "{h2UpgradePolicy: UPGRADE}", UpstreamProtocol.Http2)]
    [InlineData("name: http", "{h2UpgradePolicy: DO_NOT_UPGRADE}", UpstreamProtocol.Http1)]
    [InlineData("name: tcp", "{h2UpgradePolicy: UPGRADE}", UpstreamProtocol.ClientProtocol)]
    [InlineData("name: grpc", "{useClientProtocol: true}", UpstreamProtocol.ClientProtocol)]
    [InlineData("name: http", "{h2UpgradePolicy: UPGRADE, useClientProtocol: true}", UpstreamProtocol.ClientProtocol)]
    public void ThePortAndTheRule_DecideTheVersion(string port, string? http, UpstreamProtocol expected)
    {
        var config = Fixtures.Parse(Mesh(port, http is null ? "" : $"\n  trafficPolicy:\n    connectionPool:\n      http: {http}"));

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.Equal(expected, config.Services.Single(s => s.Host == "echo.default.svc.cluster.local").Protocol);
        Assert.Equal(expected, config.Find("echo").Protocol);
    }

    [Fact]
    public void ASubsetsConnectionPool_ReplacesTheRules()
    {
        var config = Fixtures.Parse(Mesh("name: http", "\n  trafficPolicy:\n    connectionPool:\n      http: {h2UpgradePolicy: UPGRADE}\n  subsets:\n    - name: old\n      labels: {version: v1}\n      trafficPolicy:\n        connectionPool:\n          http: {h2UpgradePolicy: DO_NOT_UPGRADE}") +
            "\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: echo, namespace: default}\nspec:\n  hosts: [echo]\n  http:\n    - route: [{destination: {host: echo, subset: old}, weight: 50}, {destination: {host: echo}, weight: 50}]");

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.Equal(UpstreamProtocol.Http1, config.Services.Single(s => s.Subset == "old").Protocol);
        Assert.Equal(UpstreamProtocol.Http2, config.Services.Single(s => s.Subset is null && s.Host == "echo.default.svc.cluster.local").Protocol);
    }

    [Theory]
    [InlineData("protocol: GRPC", UpstreamProtocol.Http2)]
    [InlineData("protocol: HTTP", UpstreamProtocol.Http1)]
    [InlineData("name: http2-api", UpstreamProtocol.Http2)]
    [InlineData("protocol: TCP", UpstreamProtocol.ClientProtocol)]
    public void AServiceEntryPort_DecidesTheVersionByItsProtocol(string field, UpstreamProtocol expected)
    {
        var config = Fixtures.Parse($$"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: vms, namespace: default}
            spec:
              hosts: [vms.example]
              ports: [{number: 8000, {{field}}}]
              endpoints: [{address: 10.0.0.1}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: vms, namespace: default}
            spec: {host: vms.example}
            """);

        Assert.Equal(expected, config.Services.Single().Protocol);
    }

    [Fact]
    public void AnUnknownUpgradePolicy_IsAPositionedError_AndMoreThanOneRequestPerConnectionIsWarned()
    {
        var config = Fixtures.Parse(Mesh("name: http", "\n  trafficPolicy:\n    connectionPool:\n      tcp: {connectTimeout: 2s}\n      http: {h2UpgradePolicy: SOMETIMES, maxRequestsPerConnection: 5}"));

        Assert.Contains(config.Diagnostics, d => d.ToString() == "test.yaml:21:31: spec.trafficPolicy.connectionPool.http.h2UpgradePolicy: unknown value 'SOMETIMES' (expected DEFAULT, DO_NOT_UPGRADE, UPGRADE)");
        Assert.DoesNotContain(config.Diagnostics, d => d.Path == "spec.trafficPolicy.connectionPool.tcp.connectTimeout");
        Assert.Contains(config.Diagnostics, d => d.Code == "DSR2001" && d.Path == "spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection" &&
            d.Message.StartsWith("only 1 (a connection per request) is carried out", StringComparison.Ordinal));
    }

    [Fact]
    public void TheConnectionSettings_AreCompiledOntoThePool_TheShorterIdleTimeoutCounting()
    {
        var config = Fixtures.Parse(Mesh("name: http", "\n  trafficPolicy:\n    connectionPool:\n      tcp: {connectTimeout: 250ms, idleTimeout: 30s}\n      http: {idleTimeout: 10s, maxRequestsPerConnection: 1}"));

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.DoesNotContain(config.Diagnostics, d => d.Code == "DSR2001");
        var pool = config.Services.Single().ConnectionPool!;
        Assert.Equal((TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10), 1, false), (pool.ConnectTimeout, pool.IdleTimeout, pool.MaxRequestsPerConnection, pool.HasRequestLimits));
    }

    [Theory]
    [InlineData("grpc", UpstreamProtocol.Http2)]
    [InlineData("http", UpstreamProtocol.Http1)]
    [InlineData(null, UpstreamProtocol.ClientProtocol)]
    public void TheOptionsSource_TakesAppProtocol(string? appProtocol, UpstreamProtocol expected)
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromOptions("echo", o =>
        {
            o.AppProtocol = appProtocol;
            o.Endpoints.Add(new EndpointOptions { Address = "10.0.0.1", Port = 5678 });
        });
        using var provider = services.BuildServiceProvider();
        var catalog = provider.GetRequiredKeyedService<RoutingCatalog>("echo");
        Assert.Equal(expected, catalog.Current.Services.Single().Protocol);
    }

    private static string Mesh(string port, string trafficPolicy) => $$$"""
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: default}
        spec:
          selector: {app: echo}
          ports: [{port: 8000, targetPort: 5690, {{{port}}}}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo-1, namespace: default, labels: {app: echo, version: v1}}
        status: {podIP: 10.0.0.1, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: default}
        spec:
          host: echo.default.svc.cluster.local{{{trafficPolicy}}}
        """;
}
