using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary>
/// One fake pod on its own loopback address: a real Grpc.AspNetCore server on <see cref="GrpcPort"/> (HTTP/2 only, as a
/// gRPC pod without TLS), and plain HTTP/1.1 on <see cref="HttpPort"/> answering its name.
/// </summary>
public sealed class GrpcPod : IAsyncDisposable
{
    public const int GrpcPort = 5690;
    public const int HttpPort = 5691;

    private WebApplication? _app;
    private int _hits;
    private int _cancelled;

    private GrpcPod(string name, string ip, string version, bool flaky)
    {
        Name = name;
        Ip = ip;
        Version = version;
        Flaky = flaky;
    }

    public string Name { get; }

    public string Ip { get; }

    public string Version { get; }

    public bool Flaky { get; }

    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Gets how many calls ended by cancellation on this pod (the caller, or the gateway for it, gave up).</summary>
    public int CancelledCalls => Volatile.Read(ref _cancelled);

    public void Hit() => Interlocked.Increment(ref _hits);

    public void Cancelled() => Interlocked.Increment(ref _cancelled);

    /// <summary>The pod as a Pod document, labelled with its version (and flaky=true when it refuses Flaky calls).</summary>
    public string Yaml => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{Name}}
          namespace: default
          labels: {app: echo, version: {{Version}}, flaky: "{{(Flaky ? "true" : "false")}}"}
        spec:
          containers: [{name: echo, ports: [{name: grpc, containerPort: {{GrpcPort}}}, {name: web, containerPort: {{HttpPort}}}]}]
        status:
          phase: Running
          podIP: {{Ip}}
          conditions: [{type: Ready, status: "True"}]
        """;

    public static async Task<GrpcPod> StartAsync(string name, string ip, string version, bool flaky = false)
    {
        var pod = new GrpcPod(name, ip, version, flaky);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse(ip), GrpcPort, o => o.Protocols = HttpProtocols.Http2);
            k.Listen(IPAddress.Parse(ip), HttpPort, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<global::Grpc.AspNetCore.Server.Model.IServiceMethodProvider<EchoService>, EchoMethods>();
        builder.Services.AddSingleton(pod);
        var app = builder.Build();
        app.MapGrpcService<EchoService>();
        app.MapGet("/{**path}", (HttpContext context) =>
        {
            pod.Hit();
            return $"{name} over {context.Request.Protocol}";
        });
        await app.StartAsync();
        pod._app = app;
        return pod;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({Ip}, {Version})");
}
