using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http.Tests;

/// <summary>Stopping a real pod mid-run; each test owns its pods (127.0.3.x), since it stops them.</summary>
public sealed class StopTests
{
    private static RoutingPolicy Policy => new(
        new DynamicSubsetPolicy([new SubsetSelector("stage", "version")]),
        [new HeaderMapping("x-version", "version"), new HeaderMapping("x-stage", "stage")]);

    [Fact]
    public async Task Retry_AfterAPodIsStopped_LandsOnTheOtherPodOfTheSubset_NeverOnAnotherSubset()
    {
        await using var a = await Workload.StartAsync("prod-v3-a", "127.0.3.11", Helloworld.Port, "prod", "v3");
        await using var b = await Workload.StartAsync("prod-v3-b", "127.0.3.12", Helloworld.Port, "prod", "v3");
        await using var other = await Workload.StartAsync("prod-v2", "127.0.3.13", Helloworld.Port, "prod", "v2");
        using var provider = ClientHarness.Provider(x => x.AddDynamicSubsetRouting(Policy, [a.ToEndpoint(), b.ToEndpoint(), other.ToEndpoint()]));
        var client = provider.Client();
        var prodV3 = new[] { ("x-stage", "prod"), ("x-version", "v3") };

        var before = new HashSet<string>();
        for (var i = 0; i < 30; i++)
        {
            before.Add((await client.GetAsync("/", prodV3)).Body);
        }

        await a.StopAsync();
        var after = new List<(int, string)>();
        for (var i = 0; i < 30; i++)
        {
            after.Add(await client.GetAsync("/", prodV3));
        }

        Assert.Equal([a.Greeting, b.Greeting], before.Order(StringComparer.Ordinal));
        Assert.All(after, r => Assert.Equal((200, b.Greeting), r));

        await b.StopAsync();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/", prodV3));
        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.Equal((200, other.Greeting), await client.GetAsync("/", ("x-stage", "prod"), ("x-version", "v2")));
    }

    [Fact]
    public void Instruments_HaveTheDocumentedNamesTypesAndUnits()
    {
        using var provider = ClientHarness.Provider(x => x.AddDynamicSubsetRouting(Policy, [Endpoint.Create("127.0.3.21", Helloworld.Port)]));
        var seen = new Dictionary<string, (string Type, string? Unit)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RoutingTelemetryNames.Meter)
                {
                    lock (seen)
                    {
                        seen[instrument.Name] = (instrument.GetType().Name.Split('`')[0], instrument.Unit);
                    }
                }
            },
        };
        listener.Start();

        _ = provider.Client(); // creates the handler, and with it the meter

        Assert.Equal(
            [
                ("dynamic_subset.ejections", "Counter", "{ejection}"),
                ("dynamic_subset.endpoints", "ObservableGauge", "{endpoint}"),
                ("dynamic_subset.overflows", "Counter", "{request}"),
                ("dynamic_subset.resolutions", "Counter", "{resolution}"),
                ("dynamic_subset.retries", "Counter", "{retry}"),
                ("dynamic_subset.subsets", "ObservableGauge", "{subset}"),
                ("dynamic_subset.updates", "Counter", "{update}"),
            ],
            seen.OrderBy(x => x.Key, StringComparer.Ordinal).Select(x => (x.Key, x.Value.Type, x.Value.Unit)));
        Assert.All(seen.Keys, name => Assert.Matches("^[a-z_]+(\\.[a-z_]+)+$", name));
    }
}
