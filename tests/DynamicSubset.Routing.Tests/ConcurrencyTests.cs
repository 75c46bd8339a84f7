using System.Globalization;

namespace DynamicSubset.Routing.Tests;

/// <summary>Readers on several threads while a writer publishes: every result comes from one snapshot.</summary>
public class ConcurrencyTests
{
    private static readonly RoutingPolicy Policy = new(
        new DynamicSubsetPolicy([new SubsetSelector(["stage"], FallbackPolicy.AnyEndpoint)]),
        [new HeaderMapping("x-stage", "stage")]);

    /// <summary>
    /// Generation g has three dev endpoints, and a prod endpoint only when g is odd; every endpoint is labelled
    /// with g. So a prod request matches exactly in odd generations and falls back in even ones, and any mix of
    /// two snapshots shows up as a parity or label mismatch.
    /// </summary>
    private static List<Endpoint> Generation(int g)
    {
        var net = (g % 200).ToString(CultureInfo.InvariantCulture);
        var gen = g.ToString(CultureInfo.InvariantCulture);
        var list = Enumerable.Range(1, 3)
            .Select(i => Endpoint.Create($"10.0.{net}.{i}", 80, Topology.Labels(("stage", "dev"), ("gen", gen))))
            .ToList();
        if (g % 2 == 1)
        {
            list.Add(Endpoint.Create($"10.0.{net}.4", 80, Topology.Labels(("stage", "prod"), ("gen", gen))));
        }

        return list;
    }

    [Fact]
    public async Task Resolve_WhileUpdatesArePublished_EveryResultIsFromOneSnapshot()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(Generation(0), Policy));
        var done = 0;
        long reads = 0;
        var headers = Topology.Headers(("x-stage", "prod"));
        using var readersRunning = new CountdownEvent(3);

        var writer = Task.Run(() =>
        {
            try
            {
                readersRunning.Wait(TestContext.Current.CancellationToken);
                for (var g = 1; g <= 600; g++)
                {
                    if (g % 2 == 0)
                    {
                        resolver.ReplaceEndpoints(Generation(g));
                    }
                    else
                    {
                        var previous = resolver.Current.Endpoints.Select(e => EndpointChange.Remove(e.AddressKey));
                        resolver.ApplyChanges([.. previous, .. Generation(g).Select(EndpointChange.Upsert)]);
                    }

                    // Let the readers resolve against this generation before the next one replaces it.
                    var target = Interlocked.Read(ref reads) + 3;
                    while (Interlocked.Read(ref reads) < target)
                    {
                        Thread.Yield();
                    }
                }
            }
            finally
            {
                Volatile.Write(ref done, 1);
            }
        }, TestContext.Current.CancellationToken);

        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            var checkedCount = 0;
            var generations = new HashSet<string>();
            while (Volatile.Read(ref done) == 0 || checkedCount < 1000)
            {
                var result = resolver.Resolve(headers);
                Assert.True(result.HasEndpoint, result.ToString());
                var gen = result.Endpoint.Labels["gen"];
                var odd = int.Parse(gen, CultureInfo.InvariantCulture) % 2 == 1;
                generations.Add(gen);
                if (result.Outcome == ResolutionOutcome.Matched)
                {
                    Assert.True(odd, $"matched prod in even generation {gen}");
                    Assert.Contains(result.Endpoint, result.Subset!.Endpoints);
                    Assert.All(result.Subset.Endpoints, e => Assert.Equal(gen, e.Labels["gen"]));
                }
                else
                {
                    Assert.Equal(ResolutionOutcome.Fallback, result.Outcome);
                    Assert.False(odd, $"fell back in odd generation {gen}");
                    Assert.Equal("dev", result.Endpoint.Labels["stage"]);
                }

                Interlocked.Increment(ref reads);
                if (++checkedCount == 1)
                {
                    readersRunning.Signal();
                }
            }

            return generations;
        }, TestContext.Current.CancellationToken)).ToArray();

        await writer.WaitAsync(TestContext.Current.CancellationToken);
        var seen = await Task.WhenAll(readers).WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(601, resolver.Current.Generation);
        Assert.True(seen.SelectMany(g => g).Distinct().Count() > 300, "readers did not overlap the writer");
    }

    [Fact]
    public async Task ConcurrentWriters_AreSerialized_NoChangeIsLost()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build([], Policy));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 1; i <= 50; i++)
            {
                resolver.ApplyChanges([EndpointChange.Upsert(Endpoint.Create($"10.{w}.0.{i}", 80, Topology.Labels(("stage", "dev"))))]);
            }
        }, TestContext.Current.CancellationToken)));

        Assert.Equal(200, resolver.Current.Endpoints.Length);
        Assert.Equal(200, resolver.Current.Subsets.Single().Endpoints.Length);
    }

    [Fact]
    public void InFlightCounts_SurviveSnapshotChanges()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(), [Topology.Pod("a", "10.0.0.1", "prod", "v3"), Topology.Pod("b", "10.0.0.2", "prod", "v3")]);
        var first = Enumerable.Range(0, 10).Select(_ => resolver.Resolve(Topology.Headers())).First(r => r.Ip() == "10.0.0.1");
        using var a = first.TrackRequest();
        using var b = first.TrackRequest();

        // Relabel 10.0.0.1 (new Endpoint object, same address): its two in-flight requests still count.
        resolver.ApplyChanges([EndpointChange.SetLabels(first.Endpoint!.AddressKey, Topology.Labels(("stage", "prod"), ("version", "v3"), ("canary", "true")))]);

        Assert.Equal(["10.0.0.2"], resolver.Ips(Topology.Headers(), 50));
    }
}
