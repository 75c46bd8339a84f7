using System.Diagnostics;
using System.Net;
using System.Text;
using DynamicSubset.Routing.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace DynamicSubset.Routing.Http.Tests;

public sealed class HandlerFixture() : HelloworldFixture(block: 2);

/// <summary>The handler's behaviour over real sockets: rewriting, Host header, 503, retries, telemetry, registrations.</summary>
public sealed class HandlerTests(HandlerFixture fixture) : IClassFixture<HandlerFixture>
{
    private Helloworld Cluster => fixture.Cluster;

    private RoutingPolicy Policy(FallbackPolicy? selectorPolicy = null) => new(
        new DynamicSubsetPolicy([new SubsetSelector(["stage", "version"], selectorPolicy)]),
        [new HeaderMapping("x-version", "version", "v3"), new HeaderMapping("x-stage", "stage", "prod")]);

    private ServiceProvider StaticClient(Action<IHttpClientBuilder>? more = null, Action<IServiceCollection>? services = null, IEnumerable<Endpoint>? endpoints = null) =>
        ClientHarness.Provider(
            b =>
            {
                b.AddDynamicSubsetRouting(Policy(), endpoints ?? Cluster.Pods.Select(p => p.ToEndpoint()));
                more?.Invoke(b);
            },
            services);

    [Fact]
    public async Task Request_KeepsPathQueryMethodBody_AndHostHeaderKeepsTheServiceName()
    {
        using var provider = StaticClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/echo/a%20b?q=1&r=two") { Content = new StringContent("payload", Encoding.UTF8) };
        request.Headers.Add("x-stage", "dev");
        request.Headers.Add("x-version", "v2");

        using var response = await provider.Client().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(
            $"POST /echo/a%20b?q=1&r=two host=helloworld.default.svc.cluster.local:8000 body=payload ip={Cluster["dev-v2"].Ip}",
            await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ClientHarness.BaseAddress + "echo/a%20b?q=1&r=two", response.RequestMessage!.RequestUri!.AbsoluteUri);
        Assert.Null(response.RequestMessage.Headers.Host);
    }

    [Fact]
    public async Task HostHeader_CanBeTheEndpointInstead()
    {
        using var provider = StaticClient(b => b.ConfigureDynamicSubsetHandler(o => o.PreserveHostHeader = false));

        var (_, body) = await provider.Client().GetAsync("/echo/", ("x-stage", "dev"), ("x-version", "v1"));

        Assert.Contains($"host={Cluster["dev-v1"].Ip}:{Helloworld.Port} ", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoEndpoint_Is503PlainText_ByDefault()
    {
        using var provider = StaticClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("x-version", "v9");

        using var response = await provider.Client().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no healthy upstream", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task NoEndpoint_ThrowsNoHealthyUpstreamException_WhenConfigured()
    {
        var logs = new FakeLogCollector();
        using var provider = StaticClient(
            b => b.ConfigureDynamicSubsetHandler(o => o.FailureBehavior = RoutingFailureBehavior.Throw),
            s => s.AddLogging(l => l.AddProvider(new FakeLoggerProvider(logs))));

        var error = await Assert.ThrowsAsync<NoHealthyUpstreamException>(() => provider.Client().GetAsync("/", ("x-version", "v9")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal("helloworld", error.Service);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, error.Resolution.Outcome);
        var log = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 20);
        Assert.Equal(LogLevel.Warning, log.Level);
    }

    [Fact]
    public async Task InvalidHandlerOptions_FailAtStart()
    {
        using var provider = StaticClient(b => b.ConfigureDynamicSubsetHandler(o => o.ConnectRetries = -1));

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.Contains("ConnectRetries", StringComparison.Ordinal));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Retry_AfterAnEndpointStops_LandsOnAnotherOfTheSameSubset_AndNeverLeavesIt()
    {
        // Three fake prod/v3 endpoints of which two refuse connections (nothing listens), then the live one.
        var live = Cluster["prod-v3-a"];
        Endpoint[] endpoints =
        [
            Endpoint.Create("127.0.2.91", Helloworld.Port, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" }),
            Endpoint.Create("127.0.2.92", Helloworld.Port, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" }),
            live.ToEndpoint(),
            .. Cluster.Pods.Where(p => p.Version != "v3").Select(p => p.ToEndpoint()),
        ];
        using var provider = StaticClient(endpoints: endpoints);
        using var retries = new MetricCollector<long>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Retries);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal((200, live.Greeting), await provider.Client().GetAsync("/", ("x-stage", "prod"), ("x-version", "v3")));
        }

        Assert.True(retries.GetMeasurementSnapshot().Count > 0);

        // With every endpoint of the subset down, it fails rather than leaving the subset.
        using var down = StaticClient(endpoints: [endpoints[0], endpoints[1], .. endpoints.Skip(3)]);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => down.Client().GetAsync("/", ("x-stage", "prod"), ("x-version", "v3")));
        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
    }

    [Fact]
    public async Task Retry_IsOff_WithZeroRetries()
    {
        Endpoint[] endpoints = [Endpoint.Create("127.0.2.93", Helloworld.Port, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" }), Cluster["prod-v3-b"].ToEndpoint()];
        using var provider = StaticClient(b => b.ConfigureDynamicSubsetHandler(o => o.ConnectRetries = 0), endpoints: endpoints);

        var failures = 0;
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await ClientHarness.GetAsync(provider.Client(), "/");
            }
            catch (HttpRequestException)
            {
                failures++;
            }
        }

        Assert.InRange(failures, 1, 19);
    }

    [Fact]
    public async Task Metrics_CountResolutionsByOutcome_AndGaugeSubsets()
    {
        using var provider = StaticClient(b => b.ConfigureDynamicSubsetHandler(o => o.FailureBehavior = RoutingFailureBehavior.Respond));
        var meters = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var resolutions = new MetricCollector<long>(meters, RoutingTelemetryNames.Meter, RoutingTelemetryNames.Resolutions);
        using var subsets = new MetricCollector<int>(meters, RoutingTelemetryNames.Meter, RoutingTelemetryNames.Subsets);
        var client = provider.Client();

        await client.GetAsync("/", ("x-stage", "dev"), ("x-version", "v1"));
        await client.GetAsync("/", ("x-version", "v9"));

        var measured = resolutions.GetMeasurementSnapshot();
        Assert.Equal(2, measured.Count);
        Assert.Equal("matched", measured[0].Tags[RoutingTelemetryNames.OutcomeTag]);
        Assert.Equal("helloworld", measured[0].Tags[RoutingTelemetryNames.ServiceTag]);
        Assert.False(measured[0].Tags.ContainsKey(RoutingTelemetryNames.FallbackPolicyTag));
        Assert.Equal("no_healthy_upstream", measured[1].Tags[RoutingTelemetryNames.OutcomeTag]);
        Assert.Equal("NO_FALLBACK", measured[1].Tags[RoutingTelemetryNames.FallbackPolicyTag]);
        Assert.Equal("global", measured[1].Tags[RoutingTelemetryNames.FallbackScopeTag]);
        Assert.Equal("{resolution}", resolutions.Instrument!.Unit);

        subsets.RecordObservableInstruments();
        Assert.Equal(5, subsets.LastMeasurement!.Value);
    }

    [Fact]
    public async Task Activity_OfHttpClient_IsTaggedWithTheDecision()
    {
        var started = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "System.Net.Http",
            Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (started) { started.Add(a); } },
        };
        ActivitySource.AddActivityListener(listener);
        using var provider = StaticClient();

        await provider.Client().GetAsync("/", ("x-stage", "dev"), ("x-version", "v1"), ("x-test-id", "activity"));

        Activity activity;
        lock (started)
        {
            activity = Assert.Single(started, a => a.GetTagItem("url.full") as string == $"http://{Cluster["dev-v1"].Ip}:{Helloworld.Port}/");
        }

        Assert.Equal("matched", activity.GetTagItem(RoutingTelemetryNames.OutcomeTag));
        Assert.Equal("stage=dev, version=v1", activity.GetTagItem(RoutingTelemetryNames.SubsetTag));
        Assert.Equal("helloworld", activity.GetTagItem(RoutingTelemetryNames.ServiceTag));
        Assert.Equal("helloworld.default.svc.cluster.local", activity.GetTagItem("server.address")); // the preserved Host header
    }

    [Fact]
    public async Task EndpointUpdates_WhileRequestsFlow_NeverFailARequest()
    {
        var source = new ManualSource();
        using var provider = ClientHarness.Provider(
            b => b.AddDynamicSubsetRouting<ManualSource>(Policy(FallbackPolicy.AnyEndpoint)),
            s => s.AddSingleton(source));
        var client = provider.Client();
        source.Publisher!.ReplaceEndpoints(Cluster.Pods.Select(p => p.ToEndpoint()));

        using var stop = new CancellationTokenSource();
        var failures = 0;
        var sent = 0;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, _) = await client.GetAsync("/", ("x-stage", "dev"), ("x-version", "v1"));
                Interlocked.Increment(ref sent);
                if (status != 200)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, TestContext.Current.CancellationToken);

        for (var round = 0; round < 40; round++)
        {
            // Relabel dev-v1 back and forth between dev and qa; with ANY_ENDPOINT every request still has a home.
            var stage = round % 2 == 0 ? "qa" : "dev";
            source.Publisher.ApplyChanges([EndpointChange.Upsert(Cluster["dev-v1"].ToEndpoint(stage))]);

            // At least one request after each change: waited for, so a loaded machine cannot make the rounds outrun the load.
            var before = Volatile.Read(ref sent);
            while (Volatile.Read(ref sent) == before && !load.IsCompleted)
            {
                await Task.Delay(1, TestContext.Current.CancellationToken);
            }
        }

        await stop.CancelAsync();
        await load;

        Assert.True(sent >= 40, $"only {sent} requests were sent");
        Assert.Equal(0, failures);
    }

    [Fact]
    public async Task Options_FromConfiguration_RouteAndValidate()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Routing:helloworld:trafficPolicy:loadBalancer:dynamicSubset:subsetSelectors:0:keys:0"] = "stage",
            ["Routing:helloworld:trafficPolicy:loadBalancer:dynamicSubset:subsetSelectors:0:keys:1"] = "version",
            ["Routing:helloworld:headerToDynamicSubsetKey:0:header"] = "x-stage",
            ["Routing:helloworld:headerToDynamicSubsetKey:0:key"] = "stage",
            ["Routing:helloworld:headerToDynamicSubsetKey:1:header"] = "x-version",
            ["Routing:helloworld:headerToDynamicSubsetKey:1:key"] = "version",
            ["Routing:helloworld:preserveHostHeader"] = "false",
        };
        foreach (var (pod, i) in Cluster.Pods.Select((p, i) => (p, i)))
        {
            settings[$"Routing:helloworld:endpoints:{i}:address"] = pod.Ip;
            settings[$"Routing:helloworld:endpoints:{i}:port"] = "5678";
            settings[$"Routing:helloworld:endpoints:{i}:labels:stage"] = pod.Stage;
            settings[$"Routing:helloworld:endpoints:{i}:labels:version"] = pod.Version;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = ClientHarness.Provider(b => b.FromOptions(configuration.GetSection("Routing:helloworld")));
        provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();

        var (status, body) = await provider.Client().GetAsync("/echo/", ("x-stage", "prod"), ("x-version", "v2"));

        Assert.Equal(200, status);
        Assert.EndsWith($"host={Cluster["prod-v2"].Ip}:5678 body= ip={Cluster["prod-v2"].Ip}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_FromCode_Route()
    {
        using var provider = ClientHarness.Provider(b => b.Services.AddDynamicSubsetCatalogFromOptions(b.Name, (DynamicSubsetRoutingOptions o) =>
        {
            var selector = new SubsetSelectorOptions();
            selector.Keys.Add(BuiltInKeys.IP);
            o.TrafficPolicy.LoadBalancer.DynamicSubset.SubsetSelectors.Add(selector);
            o.HeaderToDynamicSubsetKey.Add(new() { Header = "x-ip", Key = BuiltInKeys.IP });
            foreach (var pod in Cluster.Pods)
            {
                o.Endpoints.Add(new() { Address = pod.Ip, Port = Helloworld.Port });
            }
        }).Services.AddHttpClient(ClientHarness.ClientName).AddDynamicSubsetRouting());

        Assert.Equal((200, Cluster["dev-v3"].Greeting), await provider.Client().GetAsync("/", ("x-ip", Cluster["dev-v3"].Ip)));
    }

    [Fact]
    public async Task FilesWithAFixedHost_RouteEveryRequest_AndUnknownHostFailsAtStart()
    {
        var files = fixture.MeshFiles("dr-step2.yaml", "vs-step2.yaml");
        using var provider = ClientHarness.Provider(b => b.FromFiles(files).ConfigureDynamicSubsetHandler(o => o.Service = "helloworld"));
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientHarness.ClientName);
        client.BaseAddress = new Uri("http://anything.example:1234");

        Assert.Equal((200, Cluster["dev-v1"].Greeting), await client.GetAsync("/", ("x-stage", "dev"), ("x-version", "v1")));

        using var wrong = ClientHarness.Provider(b => b.FromFiles(files).ConfigureDynamicSubsetHandler(o => o.Service = "nosuch"));
        var error = Assert.Throws<InvalidOperationException>(() => wrong.Client());
        Assert.Contains("routes every request to service 'nosuch', which the routing catalog (files pods.yaml, service.yaml, dr-step2.yaml, vs-step2.yaml) does not have (services: helloworld.default.svc.cluster.local)", error.Message, StringComparison.Ordinal);
    }

    public sealed class ManualSource : IEndpointSource
    {
        public IEndpointPublisher? Publisher { get; private set; }

        public IDisposable Start(IEndpointPublisher publisher)
        {
            Publisher = publisher;
            return new CancellationTokenSource();
        }
    }
}
