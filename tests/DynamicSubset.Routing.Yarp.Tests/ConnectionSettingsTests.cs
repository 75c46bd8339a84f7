using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// A DestinationRule's connection settings at the gateway (127.0.34.1) and in the HttpClient handler:
/// <c>tcp.connectTimeout</c> against a pod whose listener never accepts (127.0.34.12, backlog full, so a connect hangs),
/// and <c>http.maxRequestsPerConnection: 1</c> against a pod that records which connection each request came on
/// (127.0.34.11), beside the same pod through a rule without it.
/// </summary>
public sealed class ConnectionSettingsTests : IAsyncLifetime
{
    private const string Mesh = """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: default}
        spec: {selector: {app: echo}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reuse, namespace: default}
        spec: {selector: {app: echo}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: idle, namespace: default}
        spec: {selector: {app: echo}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: stuck, namespace: default}
        spec: {selector: {app: stuck}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo-1, namespace: default, labels: {app: echo}}
        status: {podIP: 127.0.34.11, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: stuck-1, namespace: default, labels: {app: stuck}}
        status: {podIP: 127.0.34.12, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: default}
        spec:
          host: echo.default.svc.cluster.local
          trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: 1, idleTimeout: 30s}}}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reuse, namespace: default}
        spec: {host: reuse.default.svc.cluster.local}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: idle, namespace: default}
        spec:
          host: idle.default.svc.cluster.local
          trafficPolicy: {connectionPool: {tcp: {idleTimeout: 1s}}}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: stuck, namespace: default}
        spec:
          host: stuck.default.svc.cluster.local
          trafficPolicy: {connectionPool: {tcp: {connectTimeout: 250ms}}}
        """;

    private readonly ConcurrentQueue<string> _connections = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _closed = new();
    private WebApplication? _pod;
    private Socket? _stuck;
    private Socket? _filler;
    private string? _dir;

    private string MeshFile => Path.Combine(_dir!, "mesh.yaml");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // xunit does not dispose a test class whose InitializeAsync threw, so a half-started one cleans up here.
        try
        {
            var builder = TestApps.Builder("http://127.0.34.11:5678");
            _pod = builder.Build();
            _pod.Map("/{**rest}", (HttpContext context) =>
            {
                _connections.Enqueue(context.Connection.Id);
                if (context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionLifetimeFeature>() is { } lifetime)
                {
                    var closed = _closed.GetOrAdd(context.Connection.Id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    lifetime.ConnectionClosed.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), closed);
                }

                return Results.Text(context.Request.Headers.Connection.ToString());
            });
            await _pod.StartAsync(Ct);

            // A listener that never accepts, with its one-place backlog taken: the next connect to it gets no answer.
            _stuck = new Socket(SocketType.Stream, ProtocolType.Tcp);
            _stuck.Bind(new IPEndPoint(IPAddress.Parse("127.0.34.12"), 5678));
            _stuck.Listen(0);
            _filler = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await _filler.ConnectAsync(new IPEndPoint(IPAddress.Parse("127.0.34.12"), 5678), Ct);

            _dir = Directory.CreateTempSubdirectory("dsr-connections-").FullName;
            File.WriteAllText(Path.Combine(_dir, "mesh.yaml"), Mesh);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _filler?.Dispose();
        _stuck?.Dispose();
        if (_pod is not null)
        {
            await _pod.DisposeAsync();
        }

        if (_dir is not null)
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task MaxRequestsPerConnectionOne_OpensAConnectionPerRequest_AtTheGateway_AndElsewhereConnectionsAreReused()
    {
        await using var gateway = await GatewayHarness.StartAsync("127.0.34.1", [MeshFile]);

        for (var i = 0; i < 5; i++)
        {
            var (status, body) = await gateway.GetAsync("/", host: "echo");
            Assert.Equal((HttpStatusCode.OK, "close"), (status, body));
        }

        Assert.Equal(5, _connections.Distinct().Count());

        _connections.Clear();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/", host: "reuse")).Status);
        }

        Assert.Single(_connections.Distinct());
    }

    [Fact]
    public async Task MaxRequestsPerConnectionOne_HoldsInTheHttpClientHandler_AndLeavesTheRequestAsItWas()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles([MeshFile]);
        services.AddHttpClient("echo").AddDynamicSubsetRouting();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("echo");

        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://echo/");
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal("close", await response.Content.ReadAsStringAsync(Ct));
            Assert.Null(request.Headers.ConnectionClose);
        }

        Assert.Equal(4, _connections.Distinct().Count());
    }

    [Fact]
    public async Task IdleTimeout_ClosesThePoolsIdleConnections_AtTheGateway_WhileAnotherPoolKeepsItsOwn()
    {
        await using var gateway = await GatewayHarness.StartAsync("127.0.34.1", [MeshFile]);

        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/", host: "reuse")).Status);
        var kept = Assert.Single(_connections);
        _connections.Clear();
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/", host: "idle")).Status);
        var idle = Assert.Single(_connections);
        Assert.NotEqual(kept, idle); // each idle timeout has a connection pool of its own

        // The gateway closes the idle pool's connection once it has been idle a second (the pool's scavenger runs now
        // and then); the pod sees the close. The other pool's connection, idle as long, stays under the default.
        await _closed[idle].Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.False(_closed[kept].Task.IsCompleted);

        _connections.Clear();
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/", host: "idle")).Status);
        Assert.NotEqual(idle, Assert.Single(_connections)); // a new connection, as the old one is gone
    }

    [Fact]
    public async Task ConnectTimeout_BoundsTheConnect_AtTheGateway()
    {
        await using var gateway = await GatewayHarness.StartAsync("127.0.34.1", [MeshFile]);

        var (status, body) = await gateway.GetAsync("/", host: "stuck");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, RoutingPipeline.UpstreamConnectErrorBody), (status, body));
        Assert.Contains(gateway.Logs.GetSnapshot(), r => r.Message.Contains("127.0.34.12", StringComparison.Ordinal) && r.Message.Contains("took longer than the pool's connectTimeout (250 ms)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheYarpStep_OpensAConnectionPerRequest_AndBoundsTheConnect_WithPoolConnectionsAsItsConnectStep()
    {
        var builder = TestApps.Builder("http://127.0.34.3:0");
        builder.Services.AddDynamicSubsetCatalogFromFiles([MeshFile]);
        builder.Services.AddDynamicSubsetYarp();
        builder.Services.AddReverseProxy()
            .ConfigureHttpClient((_, handler) => handler.ConnectCallback = PoolConnections.ConnectAsync)
            .LoadFromMemory(
                [
                    new global::Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "echo", ClusterId = "echo", Match = new() { Path = "/echo/{**rest}" } },
                    new global::Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "stuck", ClusterId = "stuck", Match = new() { Path = "/stuck/{**rest}" } },
                ],
                [
                    new global::Yarp.ReverseProxy.Configuration.ClusterConfig
                    {
                        ClusterId = "echo",
                        Destinations = new Dictionary<string, global::Yarp.ReverseProxy.Configuration.DestinationConfig> { ["echo-1"] = new() { Address = "http://127.0.34.11:5678" } },
                    },
                    new global::Yarp.ReverseProxy.Configuration.ClusterConfig
                    {
                        ClusterId = "stuck",
                        Destinations = new Dictionary<string, global::Yarp.ReverseProxy.Configuration.DestinationConfig> { ["stuck-1"] = new() { Address = "http://127.0.34.12:5678" } },
                    },
                ]);
        await using var app = builder.Build();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseDynamicSubsets();
            proxy.UseLoadBalancing();
        });
        await app.StartAsync(Ct);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("close", await client.GetStringAsync("/echo/x", Ct));
        }

        Assert.Equal(3, _connections.Distinct().Count());

        // The stuck pod's connect passes the pool's 250 ms, a connect failure, long before YARP's own connect timeout.
        using var stuck = await client.GetAsync("/stuck/x", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stuck.StatusCode);
        Assert.Equal(RoutingPipeline.UpstreamConnectErrorBody, await stuck.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ConnectTimeout_BoundsTheConnect_InTheHttpClientHandler()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles([MeshFile]);
        services.AddHttpClient("stuck").AddDynamicSubsetRouting().ConfigureDynamicSubsetHandler(o => o.FailureBehavior = RoutingFailureBehavior.Throw);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("stuck");

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://stuck/", Ct));

        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.Contains("took longer than the pool's connectTimeout (250 ms)", error.GetBaseException().Message, StringComparison.Ordinal);
    }
}
