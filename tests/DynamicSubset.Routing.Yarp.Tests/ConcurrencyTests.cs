
namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>The YARP step's per-cluster state, read and replaced from many requests at once.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task ClusterRouting_NeverPairsOnePolicyWithAnotherPolicysResolver()
    {
        // Regression: a (policy, resolver) pair kept in a plain field could be read torn, pairing a policy with the
        // resolver built for the other one; the request was then routed by the wrong rules.
        var routing = new YarpDynamicSubsets.ClusterRouting([], []);
        RoutedService[] services =
        [
            new("helloworld", new SubsetResolver(SubsetIndex.Build([], Policy("x-a")))),
            new("helloworld", new SubsetResolver(SubsetIndex.Build([], Policy("x-b")))),
        ];
        var mismatches = 0;

        await Task.WhenAll(Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 600_000; i++)
            {
                var wanted = services[(i + t) % 2];
                var routed = routing.For(wanted);
                if (!ReferenceEquals(routed.Resolver.Current.Policy, wanted.Resolver.Current.Policy))
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        }, TestContext.Current.CancellationToken)));

        Assert.Equal(0, mismatches);
    }

    private static RoutingPolicy Policy(string header) =>
        new(new DynamicSubsetPolicy([new SubsetSelector("stage")]), [new HeaderMapping(header, "stage")]);

}
