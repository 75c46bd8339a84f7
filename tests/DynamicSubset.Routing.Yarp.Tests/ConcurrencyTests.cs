
namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>The YARP step's per-cluster state, read and replaced from many requests at once.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task ClusterCatalog_KeepsOneResolverPerPool_WhilePoliciesChangeUnderConcurrentRequests()
    {
        // The YARP step's pools live in a catalog of their own: one resolver per (cluster, pool) for the life of the app,
        // rebuilt in place, so its outlier state is never left behind in a resolver that a policy change replaced.
        var clusters = new YarpClusterCatalog();
        RoutedService[] services =
        [
            new("helloworld", new SubsetResolver(SubsetIndex.Build([], Policy("x-a")))),
            new("helloworld", new SubsetResolver(SubsetIndex.Build([], Policy("x-b")))),
        ];
        var resolvers = new System.Collections.Concurrent.ConcurrentDictionary<SubsetResolver, byte>();

        await Task.WhenAll(Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                var pool = clusters.For("cluster", [], services[(i + t) % 2], isStaticSubset: false);
                resolvers.TryAdd(pool.Service.Resolver, 0);
            }
        }, TestContext.Current.CancellationToken)));

        Assert.Single(resolvers);
        var last = clusters.For("cluster", [], services[1], isStaticSubset: false);
        Assert.Same(services[1].Resolver.Current.Policy, last.Service.Resolver.Current.Policy);
        Assert.Equal(["helloworld"], clusters.Current.Services.Select(static s => s.Name));
    }

    private static RoutingPolicy Policy(string header) =>
        new(new DynamicSubsetPolicy([new SubsetSelector("stage")]), [new HeaderMapping(header, "stage")]);

}
