using System.Net;
using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Yarp;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary>gRPC through YARP with <c>UseDynamicSubsets()</c>: YARP forwards the calls, the step picks the pods by metadata.</summary>
[Collection(SharedPods.Name)]
public sealed class YarpStepGrpcTests(GrpcPods pods)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GrpcCalls_ThroughYarp_AreRoutedByMetadata_AndUnavailableIsRetriedOnASibling()
    {
        await using var app = await StartAsync();
        using var channel = GrpcPods.Channel("http://127.0.50.2:18610");
        var invoker = channel.CreateCallInvoker();

        foreach (var version in new[] { "v1", "v2", "v1" })
        {
            var answer = await invoker.AsyncUnaryCall(Echo.Who, null, new CallOptions(GrpcPods.Version(version), cancellationToken: Ct), "yarp");
            Assert.Equal(version, pods[answer.Split('|')[0]].Version);
        }

        using (var count = invoker.AsyncServerStreamingCall(Echo.Count, null, new CallOptions(GrpcPods.Version("v2"), cancellationToken: Ct), "3"))
        {
            Assert.Equal(["echo-v2-a|0", "echo-v2-a|1", "echo-v2-a|2"], await count.ResponseStream.ReadAllAsync(Ct).ToListAsync(Ct));
        }

        var flaky = pods["echo-v1-b"];
        var before = flaky.Hits;
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal($"echo-v1-a|{i}", await invoker.AsyncUnaryCall(Echo.Flaky, null, new CallOptions(GrpcPods.Version("v1"), cancellationToken: Ct), $"{i}"));
        }

        Assert.True(flaky.Hits > before, "the flaky pod was never tried: the test proves nothing");
    }

    private async Task<WebApplication> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse("127.0.50.2"), 18610, o => o.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Services.AddDynamicSubsetCatalogFromFiles(pods.Files);
        builder.Services.AddDynamicSubsetYarp();
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "echo", Match = new RouteMatch { Path = "/{**rest}" } }],
            [new ClusterConfig
            {
                ClusterId = "echo",
                LoadBalancingPolicy = "RoundRobin",
                HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
                Destinations = pods.Pods.ToDictionary(
                    p => p.Name,
                    p => new DestinationConfig { Address = $"http://{p.Ip}:{GrpcPod.GrpcPort}", Metadata = new Dictionary<string, string> { ["version"] = p.Version } }),
            }]);
        var app = builder.Build();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseDynamicSubsets();
            proxy.UseLoadBalancing();
        });
        await app.StartAsync(Ct);
        return app;
    }
}
