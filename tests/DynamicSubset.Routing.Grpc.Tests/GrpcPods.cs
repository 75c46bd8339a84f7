using Grpc.Core;
using Grpc.Net.Client;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary>The gRPC tests share one set of pods; they run one class at a time.</summary>
[CollectionDefinition(Name)]
public sealed class SharedPods : ICollectionFixture<GrpcPods>
{
    public const string Name = "gRPC pods";
}

/// <summary>
/// Three pods on 127.0.50.11-13 (v1, v1 refusing Flaky calls, v2) and the mesh that routes them: a Service <c>echo</c>
/// whose port is named <c>grpc</c> (so HTTP/2 to the pods), a Service <c>web</c> whose port is named <c>http</c>, and
/// a VirtualService that routes <c>/test.Echo/</c> by <c>x-version</c> and retries UNAVAILABLE.
/// </summary>
public sealed class GrpcPods : IAsyncLifetime
{
    public const string Mesh = """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: default}
        spec:
          selector: {app: echo}
          ports: [{name: grpc, port: 8000, targetPort: 5690}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          selector: {app: echo}
          ports: [{name: http-web, port: 80, targetPort: 5691}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: web, namespace: default}
        spec: {host: web.default.svc.cluster.local}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: default}
        spec:
          host: echo.default.svc.cluster.local
          trafficPolicy:
            loadBalancer:
              simple: ROUND_ROBIN
              dynamicSubset:
                subsetSelectors: [{keys: [version], fallbackPolicy: NO_FALLBACK}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: echo, namespace: default}
        spec:
          hosts: [echo]
          http:
            - name: faulty
              match: [{uri: {prefix: /test.Echo/}, headers: {x-fault: {exact: "1"}}}]
              fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
              route: [{destination: {host: echo.default.svc.cluster.local}}]
            - name: short
              match: [{uri: {prefix: /test.Echo/}, headers: {x-short: {exact: "1"}}}]
              headerToDynamicSubsetKey: [{header: x-version, key: version, defaultValue: v1}]
              timeout: 300ms
              route: [{destination: {host: echo.default.svc.cluster.local}}]
            - name: echo
              match: [{uri: {prefix: /test.Echo/}}]
              headerToDynamicSubsetKey: [{header: x-version, key: version, defaultValue: v1}]
              retries: {attempts: 2, retryOn: unavailable}
              route: [{destination: {host: echo.default.svc.cluster.local}}]
        """;

    private readonly List<GrpcPod> _pods = [];

    public string Directory { get; private set; } = null!;

    public string[] Files => [Path.Combine(Directory, "mesh.yaml"), Path.Combine(Directory, "pods.yaml")];

    public GrpcPod this[string name] => _pods.Single(p => p.Name == name);

    public IReadOnlyList<GrpcPod> Pods => _pods;

    public async ValueTask InitializeAsync()
    {
        _pods.Add(await GrpcPod.StartAsync("echo-v1-a", "127.0.50.11", "v1"));
        _pods.Add(await GrpcPod.StartAsync("echo-v1-b", "127.0.50.12", "v1", flaky: true));
        _pods.Add(await GrpcPod.StartAsync("echo-v2-a", "127.0.50.13", "v2"));
        Directory = System.IO.Directory.CreateTempSubdirectory("dsr-grpc-").FullName;
        File.WriteAllText(Files[0], Mesh);
        File.WriteAllText(Files[1], string.Join("\n---\n", _pods.Select(p => p.Yaml)));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pod in _pods)
        {
            await pod.DisposeAsync();
        }

        if (Directory is not null)
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, for at most 20 s.</summary>
    public static async Task Until(Func<bool> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    /// <summary>Metadata that picks a version.</summary>
    public static Metadata Version(string version) => new() { { "x-version", version } };

    /// <summary>A channel to <paramref name="address"/> whose calls name the service <paramref name="host"/>, on one HTTP/2 connection.</summary>
    public static GrpcChannel Channel(string address, string host = "echo", Action<SocketsHttpHandler>? configure = null)
    {
        var sockets = new SocketsHttpHandler { EnableMultipleHttp2Connections = false };
        configure?.Invoke(sockets);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new HostHeader(host) { InnerHandler = sockets } });
    }

    /// <summary>Sets the Host (HTTP/2's :authority), as a client of the service's name would send it.</summary>
    private sealed class HostHeader(string host) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Host = host;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
