using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// A unary gRPC call through the dynamic subset gateway (h2c in, HTTP/2 to a pod whose port is gRPC, routed by its
/// metadata) against the same call through YARP's forwarder to a fixed destination over HTTP/2, and straight to the pod.
/// In-process Kestrel on loopback, one HTTP/2 connection per client.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class GrpcGatewayBenchmarks
{
    private static readonly Marshaller<string> Text = Marshallers.Create(static s => Encoding.UTF8.GetBytes(s), static b => Encoding.UTF8.GetString(b));
    private static readonly Method<string, string> Hello = new(MethodType.Unary, "bench.Greeter", "Hello", Text, Text);
    private static readonly Metadata Headers = new() { { "x-stage", "prod" } };

    private WebApplication _pod = null!;
    private WebApplication _plain = null!;
    private WebApplication _gateway = null!;
    private GrpcChannel _direct = null!;
    private GrpcChannel _viaPlain = null!;
    private GrpcChannel _viaGateway = null!;
    private CallInvoker _directCalls = null!;
    private CallInvoker _plainCalls = null!;
    private CallInvoker _gatewayCalls = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _pod = Loopback.App("127.0.0.51", protocols: HttpProtocols.Http2, services: s =>
        {
            s.AddGrpc();
            s.AddSingleton<IServiceMethodProvider<Greeter>, Greeter>();
        });
        _pod.MapGrpcService<Greeter>();
        await _pod.StartAsync();
        var pod = new Uri(_pod.Urls.First());

        _plain = Loopback.App("127.0.0.52", s => s.AddHttpForwarder(), HttpProtocols.Http2);
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None, EnableMultipleHttp2Connections = true });
        var forwarder = _plain.Services.GetRequiredService<IHttpForwarder>();
        var prefix = pod.GetLeftPart(UriPartial.Authority);
        var http2 = new ForwarderRequestConfig { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        _plain.Map("/{**rest}", async (HttpContext c) => { await forwarder.SendAsync(c, prefix, invoker, http2); });
        await _plain.StartAsync();

        var endpoint = Endpoint.Create("127.0.0.51", pod.Port, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" });
        var service = new RoutedService("greeter.default.svc.cluster.local", new SubsetResolver(SubsetIndex.Build([endpoint], Synthetic.Policy()))) { Protocol = UpstreamProtocol.Http2 };
        _gateway = Loopback.App("127.0.0.53", protocols: HttpProtocols.Http2, services: s =>
        {
            s.AddSingleton<RoutingCatalog>(new Loopback.OneService(service));
            s.AddDynamicSubsetGateway();
        });
        _gateway.MapDynamicSubsetGateway();
        await _gateway.StartAsync();

        (_direct, _directCalls) = Channel(pod);
        (_viaPlain, _plainCalls) = Channel(new Uri(_plain.Urls.First()));
        (_viaGateway, _gatewayCalls) = Channel(new Uri(_gateway.Urls.First()));
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (var channel in new[] { _direct, _viaPlain, _viaGateway })
        {
            channel.Dispose();
        }

        foreach (var app in new[] { _gateway, _plain, _pod })
        {
            await app.DisposeAsync();
        }
    }

    [Benchmark]
    public Task<string> Direct() => Call(_directCalls);

    [Benchmark(Baseline = true)]
    public Task<string> YarpForwarderToFixedDestination() => Call(_plainCalls);

    [Benchmark]
    public Task<string> DynamicSubsetGateway() => Call(_gatewayCalls);

    private static async Task<string> Call(CallInvoker calls) => await calls.AsyncUnaryCall(Hello, null, new CallOptions(Headers), "bench");

    private static (GrpcChannel, CallInvoker) Channel(Uri address)
    {
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false } });
        return (channel, channel.CreateCallInvoker());
    }

    /// <summary>The pod's service: answers at once.</summary>
    public sealed class Greeter : IServiceMethodProvider<Greeter>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<Greeter> context) =>
            context.AddUnaryMethod(Hello, [], static (_, request, _) => Task.FromResult("hello " + request));
    }
}
