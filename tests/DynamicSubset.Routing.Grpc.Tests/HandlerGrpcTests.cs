using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Http;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary>
/// gRPC through the HttpClient handler, with no gateway: the gRPC client factory's client and a plain GrpcChannel, each
/// call routed by its own metadata straight to a pod over HTTP/2 (the Service port is named <c>grpc</c>).
/// </summary>
[Collection(SharedPods.Name)]
public sealed class HandlerGrpcTests(GrpcPods pods)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GrpcClientFactory_RoutesEachCallByItsMetadata_AndAStreamStaysOnItsPod()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles(pods.Files);
        services.AddGrpcClient<EchoClient>(o => o.Address = new Uri("http://echo:8000")).AddDynamicSubsetRouting();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<EchoClient>();

        for (var i = 0; i < 6; i++)
        {
            var version = i % 2 == 0 ? "v1" : "v2";
            var answer = await client.WhoAsync($"{i}", GrpcPods.Version(version));
            Assert.Equal(version, pods[answer.Split('|')[0]].Version);
        }

        using var count = client.Count("4", GrpcPods.Version("v2"));
        Assert.Equal(["echo-v2-a|0", "echo-v2-a|1", "echo-v2-a|2", "echo-v2-a|3"], await count.ResponseStream.ReadAllAsync(Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task PlainGrpcChannel_OverTheHandler_ReachesThePodsOverHttp2()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles(pods.Files);
        services.AddHttpClient("echo").AddDynamicSubsetRouting();
        await using var provider = services.BuildServiceProvider();
        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("echo");
        using var channel = GrpcChannel.ForAddress("http://echo:8000", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        var invoker = channel.CreateCallInvoker();

        using var chat = invoker.AsyncDuplexStreamingCall(Echo.Chat, null, new CallOptions(GrpcPods.Version("v2"), cancellationToken: Ct));
        await chat.RequestStream.WriteAsync("one", Ct);
        Assert.True(await chat.ResponseStream.MoveNext(Ct));
        Assert.Equal("echo-v2-a|one", chat.ResponseStream.Current);
        await chat.RequestStream.CompleteAsync();

        // An HttpClient request in HTTP/1.1 to the same service goes to the pod in HTTP/2: its port is named grpc.
        using var http = new HttpClient(provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("echo"));
        Assert.EndsWith(" over HTTP/2", await http.GetStringAsync("http://echo:8000/test.Echo/ping", Ct));
        Assert.EndsWith(" over HTTP/1.1", await http.GetStringAsync("http://web/", Ct));
    }

    /// <summary>A typed client, as generated code would be: what <c>AddGrpcClient</c> creates.</summary>
    private sealed class EchoClient : ClientBase<EchoClient>
    {
        public EchoClient(CallInvoker invoker)
            : base(invoker)
        {
        }

        private EchoClient(ClientBaseConfiguration configuration)
            : base(configuration)
        {
        }

        public AsyncUnaryCall<string> WhoAsync(string request, Metadata headers) =>
            CallInvoker.AsyncUnaryCall(Echo.Who, null, new CallOptions(headers, cancellationToken: Ct), request);

        public AsyncServerStreamingCall<string> Count(string request, Metadata headers) =>
            CallInvoker.AsyncServerStreamingCall(Echo.Count, null, new CallOptions(headers, cancellationToken: Ct), request);

        protected override EchoClient NewInstance(ClientBaseConfiguration configuration) => new(configuration);
    }
}
