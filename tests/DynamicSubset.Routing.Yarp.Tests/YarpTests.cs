using System.Net;
using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Http.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>YARP's own proxy with the dynamic subset step: destinations carry labels in Metadata.</summary>
public sealed class YarpTests
{
    [Fact]
    public async Task ProxyPipeline_NarrowsDestinationsToTheResolvedSubset_BeforeYarpLoadBalances()
    {
        await using var pods = await Helloworld.StartAsync(block: 6);
        await using var app = await StartProxyAsync(pods, "127.0.6.1", "RoundRobin", services => services.AddDynamicSubsetCatalogFromOptions("helloworld", o =>
        {
            var selector = new SubsetSelectorOptions { FallbackPolicy = "NO_FALLBACK" };
            selector.Keys.Add("stage");
            selector.Keys.Add("version");
            o.TrafficPolicy.LoadBalancer.DynamicSubset.SubsetSelectors.Add(selector);
            o.HeaderToDynamicSubsetKey.Add(new() { Header = "x-version", Key = "version", DefaultValue = "v3" });
            o.HeaderToDynamicSubsetKey.Add(new() { Header = "x-stage", Key = "stage", DefaultValue = "prod" });
        }));
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        Task<(HttpStatusCode, string)> Get(params (string, string)[] headers) => GetAsync(client, "/", headers);

        var prod = new HashSet<string>();
        for (var i = 0; i < 10; i++)
        {
            prod.Add((await Get()).Item2);
        }

        Assert.Equal((HttpStatusCode.OK, pods["dev-v2"].Greeting), await Get(("x-stage", "dev"), ("x-version", "v2")));
        Assert.Equal([pods["prod-v3-a"].Greeting, pods["prod-v3-b"].Greeting], prod.Order(StringComparer.Ordinal)); // YARP's round robin inside the subset
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "no healthy upstream"), await Get(("x-stage", "prod"), ("x-version", "v1")));
    }

    [Fact]
    public async Task ProxyPipeline_FollowsTheServicesVirtualService_MatchesAndStaticSubsets()
    {
        await using var pods = await Helloworld.StartAsync(block: 26);
        var dir = Directory.CreateTempSubdirectory("dsr-yarp-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "pods.yaml"), pods.PodListYaml());
            File.WriteAllText(Path.Combine(dir, "mesh.yaml"), """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: helloworld}
                spec:
                  host: helloworld
                  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: helloworld}
                spec:
                  hosts: [helloworld]
                  http:
                    - match: [{uri: {prefix: /admin}}]
                      route: [{destination: {host: helloworld, subset: v1}}]
                    - match: [{headers: {x-canary: {}}}]
                      route: [{destination: {host: helloworld, subset: v2}}]
                """);
            await using var app = await StartProxyAsync(pods, "127.0.26.1", loadBalancing: null, services =>
                services.AddDynamicSubsetCatalogFromFiles([Path.Combine(dir, "pods.yaml"), MeshFolder.Reference("service.yaml"), Path.Combine(dir, "mesh.yaml")]));
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            Task<(HttpStatusCode, string)> Get(string path, params (string, string)[] headers) => GetAsync(client, path, headers);

            Assert.Equal((HttpStatusCode.OK, pods["dev-v1"].Greeting), await Get("/admin"));
            var v2 = new HashSet<string>();
            for (var i = 0; i < 20; i++)
            {
                v2.Add((await Get("/", ("x-canary", "1"))).Item2);
            }

            Assert.Equal([pods["dev-v2"].Greeting, pods["prod-v2"].Greeting], v2.Order(StringComparer.Ordinal)); // YARP balances inside the static subset
            Assert.Equal((HttpStatusCode.NotFound, "no route"), await Get("/"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>YARP's proxy of one cluster, the helloworld pods with their labels as metadata, with the dynamic subset step before load balancing.</summary>
    private static async Task<WebApplication> StartProxyAsync(Helloworld pods, string ip, string? loadBalancing, Action<IServiceCollection> catalog)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{ip}:0");
        builder.Logging.ClearProviders();
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "helloworld", Match = new RouteMatch { Path = "/{**rest}" } }],
            [new ClusterConfig
            {
                ClusterId = "helloworld",
                LoadBalancingPolicy = loadBalancing,
                Destinations = pods.Pods.ToDictionary(
                    p => p.Name,
                    p => new DestinationConfig { Address = $"http://{p.Ip}:{Helloworld.Port}", Metadata = new Dictionary<string, string> { ["stage"] = p.Stage, ["version"] = p.Version } }),
            }]);
        builder.Services.AddDynamicSubsetYarp();
        catalog(builder.Services);
        var app = builder.Build();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseDynamicSubsets();
            proxy.UseLoadBalancing();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static async Task<(HttpStatusCode, string)> GetAsync(HttpClient client, string path, (string, string)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (n, v) in headers)
        {
            request.Headers.Add(n, v);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
