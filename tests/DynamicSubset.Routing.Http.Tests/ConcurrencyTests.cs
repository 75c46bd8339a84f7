using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http.Tests;

/// <summary>Readers racing writers on the multi-field state the entry points keep: a torn or stale read is a failure.</summary>
public sealed class ConcurrencyTests
{
    private static RoutedService Service(string header) => new(
        "helloworld",
        new SubsetResolver(SubsetIndex.Build([], new RoutingPolicy(new DynamicSubsetPolicy([new SubsetSelector("stage")]), [new HeaderMapping(header, "stage")]))));

    [Fact]
    public void MappedHeaders_AChangeBetweenComputingAndStoring_IsNotLost()
    {
        // The interleaving that lost a change, made to happen: a reader computes the list, the catalog changes and
        // invalidates, then the reader stores what it computed.
        var catalog = new InMemoryRoutingCatalog([Service("x-a")]);
        using var provider = new ServiceCollection().AddSingleton<RoutingCatalog>(catalog).BuildServiceProvider();
        var routes = new RoutingCatalogRegistry(provider);
        _ = routes.All;
        routes.OnComputed = () =>
        {
            routes.OnComputed = null;
            catalog.Update([Service("x-b")]);
        };

        Assert.Equal(["x-a"], routes.MappedHeaders); // what the reader computed, from the state before
        Assert.Equal(["x-b"], routes.MappedHeaders);
        Assert.Equal(["x-b"], routes.MappedHeaders);
    }

    [Fact]
    public async Task MappedHeaders_AfterAPolicyChange_NeverServeTheListOfTheStateBefore()
    {
        // Regression: the cache was cleared with a null, and a reader that had computed the old list stored it after
        // the clear, so the old headers were served until the next change.
        var catalog = new InMemoryRoutingCatalog([Service("x-a")]);
        using var provider = new ServiceCollection().AddSingleton<RoutingCatalog>(catalog).BuildServiceProvider();
        var routes = new RoutingCatalogRegistry(provider);
        _ = routes.MappedHeaders;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                _ = routes.MappedHeaders;
            }
        }, TestContext.Current.CancellationToken);

        try
        {
            for (var i = 0; i < 20_000; i++)
            {
                var header = i % 2 == 0 ? "x-b" : "x-a";
                catalog.Update([Service(header)]);
                Assert.Equal([header], routes.MappedHeaders);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reader;
        }
    }
}
