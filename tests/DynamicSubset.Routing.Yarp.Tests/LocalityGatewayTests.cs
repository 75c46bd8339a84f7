using System.Net;
using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// <c>localityLbSetting</c> end to end: a gateway in us-east/zone-a on 127.0.33.1 over five real pods (127.0.33.11-15) in
/// three regions. Requests stay in the gateway's zone; as its pods fail and outlier detection ejects them, they go to the
/// region's other zone, then to the failover region before any other. The HttpClient handler does the same client-side.
/// </summary>
public sealed class LocalityGatewayTests : IAsyncLifetime
{
    private static readonly (string Ip, string Region, string Zone)[] PodSpecs =
    [
        ("127.0.33.11", "us-east", "zone-a"),
        ("127.0.33.12", "us-east", "zone-a"),
        ("127.0.33.13", "us-east", "zone-b"),
        ("127.0.33.14", "eu-west", "zone-c"),
        ("127.0.33.15", "ap-south", "zone-d"),
    ];

    private readonly List<WebApplication> _pods = [];
    private readonly HashSet<string> _failing = [];
    private string? _dir;

    private string MeshFile => Path.Combine(_dir!, "mesh.yaml");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Mesh => $"""
        apiVersion: v1
        kind: Service
        metadata: {"{"}name: geo, namespace: default{"}"}
        spec: {"{"}selector: {"{"}app: geo{"}"}, ports: [{"{"}name: http, port: 80, targetPort: 5678{"}"}]{"}"}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {"{"}name: geo, namespace: default{"}"}
        spec:
          host: geo.default.svc.cluster.local
          trafficPolicy:
            outlierDetection: {"{"}consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 10m, maxEjectionPercent: 100{"}"}
            loadBalancer:
              simple: ROUND_ROBIN
              localityLbSetting:
                failover: [{"{"}from: us-east, to: eu-west{"}"}]
        {string.Concat(PodSpecs.Select((p, i) => $"""
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: geo-{i}
          namespace: default
          labels: {"{"}app: geo, topology.kubernetes.io/region: {p.Region}, topology.kubernetes.io/zone: {p.Zone}{"}"}
        status: {"{"}podIP: {p.Ip}, conditions: [{"{"}type: Ready, status: "True"{"}"}]{"}"}

        """))}
        """;

    public async ValueTask InitializeAsync()
    {
        // xunit does not dispose a test class whose InitializeAsync threw, so a half-started one cleans up here.
        try
        {
            foreach (var (ip, _, _) in PodSpecs)
            {
                var builder = TestApps.Builder($"http://{ip}:5678");
                var pod = builder.Build();
                _pods.Add(pod);
                pod.Map("/{**rest}", () =>
                {
                    lock (_failing)
                    {
                        return _failing.Contains(ip) ? Results.Text(ip, statusCode: 503) : Results.Text(ip);
                    }
                });
                await pod.StartAsync(Ct);
            }

            _dir = Directory.CreateTempSubdirectory("dsr-locality-").FullName;
            File.WriteAllText(MeshFile, Mesh);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pod in _pods)
        {
            await pod.DisposeAsync();
        }

        if (_dir is not null)
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private void Fail(params string[] ips)
    {
        lock (_failing)
        {
            _failing.UnionWith(ips);
        }
    }

    [Fact]
    public void TheConfiguration_HasNoIgnoredField() => TestApps.AssertNoIgnoredField(Mesh);

    [Fact]
    public async Task TheGateway_StaysInItsZone_ThenFailsOverZoneByZone_AsPodsAreEjected()
    {
        await using var gateway = await GatewayHarness.StartAsync("127.0.33.1", [MeshFile], o => o.Locality = "us-east/zone-a");
        Task<HashSet<string>> Served(int n = 20) => Ips(n, async () => await gateway.GetAsync("/", host: "geo"));

        Assert.Equal(["127.0.33.11", "127.0.33.12"], (await Served()).Order());

        // The zone's pods fail: each 503 ejects its pod (consecutive5xxErrors: 1). Until both are out a request may still
        // get one (no retries are configured); after that the region's other zone takes everything.
        Fail("127.0.33.11", "127.0.33.12");
        await SendUntilEjected(gateway, 2);
        Assert.Equal(["127.0.33.13"], await Served());

        // Then the failover region, eu-west, before ap-south.
        Fail("127.0.33.13");
        await SendUntilEjected(gateway, 3);
        Assert.Equal(["127.0.33.14"], await Served());
    }

    [Fact]
    public async Task AGatewayWithoutALocality_SpreadsOverEveryRegion()
    {
        await using var gateway = await GatewayHarness.StartAsync("127.0.33.2", [MeshFile]);

        var served = await Ips(20, async () => await gateway.GetAsync("/", host: "geo"));

        Assert.Equal(PodSpecs.Select(p => p.Ip), served.Order());
    }

    [Fact]
    public async Task TheHttpClientHandler_PicksByItsOwnLocality()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles([MeshFile]);
        services.AddHttpClient("geo").AddDynamicSubsetRouting().ConfigureDynamicSubsetHandler(o => o.Locality = "us-east/zone-b");
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("geo");

        var served = await Ips(20, async () =>
        {
            using var response = await client.GetAsync("http://geo/", Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        });

        Assert.Equal(["127.0.33.13"], served);
    }

    [Fact]
    public async Task ABadLocality_IsRefusedWithTheOptionsName()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles([MeshFile]);
        services.AddHttpClient("geo").AddDynamicSubsetRouting().ConfigureDynamicSubsetHandler(o => o.Locality = "a/b/c/d");
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient("geo"));

        Assert.Contains("Locality must be region, region/zone or region/zone/subzone.", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Sends requests (each failing one ejects its pod) until <paramref name="count"/> pods are out; a bounded number of them.</summary>
    private static async Task SendUntilEjected(GatewayHarness gateway, int count)
    {
        Assert.True(gateway.Catalog.Current.TryFind("geo", out var geo));
        for (var i = 0; i < 100 && geo.Resolver.Ejections.Count < count; i++)
        {
            await gateway.GetAsync("/", host: "geo");
        }

        Assert.Equal(count, geo.Resolver.Ejections.Count);
    }

    private static async Task<HashSet<string>> Ips(int n, Func<Task<(HttpStatusCode Status, string Body)>> send)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var (status, body) = await send();
            Assert.Equal(HttpStatusCode.OK, status);
            seen.Add(body);
        }

        return seen;
    }
}
