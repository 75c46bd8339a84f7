using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace DynamicSubset.Routing.Http.Tests;

/// <summary>SPEC rule 17: a rejected update keeps the last good snapshot and is reported by a log and a metric.</summary>
public sealed class UpdateTelemetryTests
{
    private static readonly RoutingPolicy Policy = new(
        new DynamicSubsetPolicy([new SubsetSelector("stage")], FallbackPolicy.AnyEndpoint), [new HeaderMapping("x-stage", "stage")]);

    private static List<string> Results(MetricCollector<long> updates) =>
        [.. updates.GetMeasurementSnapshot().Select(m => $"{m.Tags[RoutingTelemetryNames.UpdateResultTag]} {m.Tags[RoutingTelemetryNames.ServiceTag]}")];

    [Fact]
    public void PublisherUpdate_Rejected_IsThrownLoggedAndCounted_AndTheLastGoodSnapshotServes()
    {
        var source = new HandlerTests.ManualSource();
        var logs = new FakeLogCollector();
        using var provider = ClientHarness.Provider(
            b => b.AddDynamicSubsetRouting<HandlerTests.ManualSource>(Policy),
            s =>
            {
                s.AddSingleton(source);
                s.AddLogging(l => l.AddProvider(new FakeLoggerProvider(logs)));
            });
        using var updates = new MetricCollector<long>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Updates);
        _ = provider.Client();
        var good = Endpoint.Create("127.0.36.1", 80, new Dictionary<string, string> { ["stage"] = "dev" });

        source.Publisher!.ReplaceEndpoints([good]);
        var error = Assert.Throws<RoutingValidationException>(() => source.Publisher.ReplaceEndpoints([good, good]));

        Assert.Equal("endpoints: address 127.0.36.1:80 is given twice", error.Message);
        Assert.Equal(["applied helloworld", "rejected helloworld"], Results(updates));
        Assert.Equal(LogLevel.Error, Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 22).Level);
        Assert.Equal([good], Assert.Single(provider.Routes()).Resolver.Current.Endpoints);
    }

    [Fact]
    public void OptionsChange_Rejected_IsCounted_AndTheLastGoodSnapshotServes()
    {
        var settings = new Dictionary<string, string?>
        {
            ["R:trafficPolicy:loadBalancer:dynamicSubset:subsetSelectors:0:keys:0"] = "stage",
            ["R:headerToDynamicSubsetKey:0:header"] = "x-stage",
            ["R:headerToDynamicSubsetKey:0:key"] = "stage",
            ["R:endpoints:0:address"] = "127.0.36.2",
            ["R:endpoints:0:port"] = "80",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = ClientHarness.Provider(b => b.FromOptions(configuration.GetSection("R")));
        using var updates = new MetricCollector<long>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Updates);
        _ = provider.Client();
        var before = Assert.Single(provider.Routes()).Resolver.Current;

        configuration["R:endpoints:0:address"] = "127.0.36.x";

        // OptionsMonitor's own change handler rethrows the validation failure to whoever triggered the reload
        // (dotnet/runtime#44381); with a file provider that is the file-watching thread. Ours has run regardless.
        var thrown = Assert.Throws<AggregateException>(configuration.Reload);
        Assert.Contains("R: endpoints[0].address: '127.0.36.x' is not an IP address", thrown.InnerException!.Message, StringComparison.Ordinal);

        Assert.Equal(["rejected helloworld"], Results(updates));
        Assert.Same(before, Assert.Single(provider.Routes()).Resolver.Current);
    }

    [Fact]
    public async Task FilesReload_AServiceAddedLater_IsCountedToo()
    {
        var dir = Directory.CreateTempSubdirectory("dsr-upd-").FullName;
        try
        {
            var rules = Path.Combine(dir, "rules.yaml");
            string Rule(string host) => $$"""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata:
                  name: {{host}}
                spec:
                  host: {{host}}
                  trafficPolicy:
                    loadBalancer:
                      dynamicSubset:
                        subsetSelectors:
                          - keys: [stage]

                """;
            await File.WriteAllTextAsync(rules, Rule("helloworld"), TestContext.Current.CancellationToken);
            using var provider = ClientHarness.Provider(b => b.FromFiles([rules]));
            using var updates = new MetricCollector<long>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoutingTelemetryNames.Meter, RoutingTelemetryNames.Updates);
            _ = provider.Client();
            Assert.Single(provider.Routes());

            await File.WriteAllTextAsync(rules, Rule("helloworld") + "---\n" + Rule("other"), TestContext.Current.CancellationToken);
            // The update is counted by the catalog's Changed event, raised just after the new snapshot is visible: wait
            // for the count itself, not for the snapshot (waiting for the snapshot failed by chance on a loaded machine).
            var deadline = Environment.TickCount64 + 10_000;
            while (!Results(updates).Contains("applied other.default.svc.cluster.local") && Environment.TickCount64 < deadline)
            {
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }

            Assert.Contains("applied other.default.svc.cluster.local", Results(updates));
            Assert.Contains("applied helloworld.default.svc.cluster.local", Results(updates));
            Assert.Equal(2, provider.Routes().Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MappedHeaders_FollowAPolicyChange()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["R:trafficPolicy:loadBalancer:dynamicSubset:subsetSelectors:0:keys:0"] = "stage",
            ["R:headerToDynamicSubsetKey:0:header"] = "x-stage",
            ["R:headerToDynamicSubsetKey:0:key"] = "stage",
        }).Build();
        using var provider = ClientHarness.Provider(b => b.FromOptions(configuration.GetSection("R")));
        var routes = provider.GetRequiredService<RoutingCatalogRegistry>();

        Assert.Equal(["x-stage"], routes.MappedHeaders);
        Assert.Same(routes.MappedHeaders, routes.MappedHeaders); // cached between changes

        configuration["R:headerToDynamicSubsetKey:0:header"] = "X-Env";
        configuration.Reload();

        Assert.Equal(["x-env"], routes.MappedHeaders);
    }
}
