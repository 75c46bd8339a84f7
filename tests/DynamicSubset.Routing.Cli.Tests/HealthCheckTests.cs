using System.Net;
using System.Text.Json.Nodes;
using DynamicSubset.Routing.Kubernetes;
using DynamicSubset.Routing.Kubernetes.Tests;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary>
/// <c>AddDynamicSubsetHealthChecks()</c> in an app of a library user, on Kestrel, with the cluster as its catalog: the
/// stand-in API server unreachable at start, then reachable, then gone.
/// </summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task Readyz_UnhealthyBeforeTheFirstSync_HealthyAfter_DegradedWhileTheSourceIsGone()
    {
        await using var api = await FakeApiServer.StartAsync("127.0.37.7");
        api.Unavailable = true;
        api.Put("services", JsonNode.Parse("""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"selector": {"app": "helloworld"}, "ports": [{"name": "http", "port": 8000, "targetPort": 5678}]}}
            """)!.AsObject());
        api.Put("destinationrules", JsonNode.Parse("""
            {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"host": "helloworld.default.svc.cluster.local", "trafficPolicy": {"loadBalancer": {"dynamicSubset": {"subsetSelectors": [{"keys": ["stage"]}]}}}}}
            """)!.AsObject());

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.37.8:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDynamicSubsetCatalogFromKubernetes(o =>
        {
            o.ClientConfiguration = new KubernetesClientConfiguration { Host = api.Address.ToString() };
            o.MaxBackoff = TimeSpan.FromMilliseconds(500);
        });
        builder.Services.AddHealthChecks().AddDynamicSubsetHealthChecks();
        await using var app = builder.Build();
        app.MapHealthChecks("/readyz");
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), await Get(client));

        api.Unavailable = false;
        await Until(client, (HttpStatusCode.OK, "Healthy"));

        await api.StopAsync();
        await Until(client, (HttpStatusCode.OK, "Degraded"));
    }

    private static async Task<(HttpStatusCode, string)> Get(HttpClient client)
    {
        using var response = await client.GetAsync("/readyz", TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task Until(HttpClient client, (HttpStatusCode, string) expected)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        (HttpStatusCode, string) last = default;
        try
        {
            while ((last = await Get(client)) != expected)
            {
                await Task.Delay(20, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"/readyz answered {last}, not {expected}, for 30 s");
        }
    }
}
