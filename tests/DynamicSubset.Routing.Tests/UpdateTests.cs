namespace DynamicSubset.Routing.Tests;

/// <summary>
/// Updates and the state they must keep. <see cref="SubsetIndex.Apply"/> skips rescanning the any-endpoint set when it
/// stays all healthy at one weight, so some tests check the cases where it does not; a rebuild takes over in-flight
/// counts by walking the old and new endpoints in address order, so others check that walk.
/// </summary>
public class UpdateTests
{
    private static readonly Dictionary<string, string> NoMatch = Topology.Headers(("x-stage", "qa"), ("x-version", "v9"));

    private static SubsetResolver AnyEndpointResolver(LoadBalancingPolicy loadBalancing) => Topology.Resolver(
        Topology.StageVersion(FallbackPolicy.AnyEndpoint, loadBalancing: loadBalancing),
        [Topology.Pod("a", "10.0.0.1", "prod", "v3"), Topology.Pod("b", "10.0.0.2", "dev", "v1")]);

    [Fact]
    public void UnhealthyEndpointJoiningTheAnySet_IsNeverPicked()
    {
        var resolver = AnyEndpointResolver(LoadBalancingPolicy.RoundRobin);
        resolver.ApplyChanges([EndpointChange.Upsert(Topology.Pod("c", "10.0.0.3", "qa", "v1", healthy: false))]);

        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Ips(NoMatch, 60).Order(StringComparer.Ordinal));
        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Resolve(NoMatch).CandidateEndpoints.Select(e => e.AddressText));
    }

    [Fact]
    public void EndpointMarkedUnhealthy_LeavesTheAnySet_AndComesBack()
    {
        var resolver = AnyEndpointResolver(LoadBalancingPolicy.RoundRobin);
        var a = resolver.Current.Endpoints[0].AddressKey;

        resolver.ApplyChanges([EndpointChange.SetHealth(a, false)]);
        Assert.Equal(["10.0.0.2"], resolver.Ips(NoMatch, 40));

        resolver.ApplyChanges([EndpointChange.SetHealth(a, true)]);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Ips(NoMatch, 40).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EndpointWithAnotherWeightJoiningTheAnySet_GetsItsShare()
    {
        var resolver = AnyEndpointResolver(LoadBalancingPolicy.RoundRobin);
        resolver.ApplyChanges([EndpointChange.Upsert(Topology.Pod("c", "10.0.0.3", "qa", "v1", weight: 2))]);

        // Weighted round robin over weights 1, 1, 2: exactly 2 of every 4 picks go to the heavy endpoint.
        var counts = Enumerable.Range(0, 400).Select(_ => resolver.Resolve(NoMatch).Ip()).CountBy(ip => ip).ToDictionary();
        Assert.Equal(200, counts["10.0.0.3"]);
        Assert.Equal(100, counts["10.0.0.1"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rebuild_KeepsTheInFlightCountOfEveryAddressThatCarriesOn(bool shuffled)
    {
        Endpoint Pod(int i) => Topology.Pod($"p{i}", $"10.0.0.{i}", "prod", "v3");
        var resolver = Topology.Resolver(Topology.StageVersion(), Enumerable.Range(1, 6).Select(i => Pod(2 * i)));

        // Load every endpoint except 10.0.0.8 with requests in flight.
        var inFlight = new List<InFlightRequest>();
        while (inFlight.Count < 200)
        {
            var resolution = resolver.Resolve(Topology.Headers());
            if (resolution.Ip() != "10.0.0.8")
            {
                inFlight.Add(resolution.TrackRequest());
            }
        }

        // A new list in another order, with addresses joining before, between and after the old ones, and one leaving.
        var next = new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13 }.Select(Pod).ToList();
        if (shuffled)
        {
            next.Reverse();
        }

        resolver.ReplaceEndpoints(next);

        // The loaded endpoints keep their counts, so a power-of-two-choices pick lands on one only when both candidates
        // are loaded: 5/11 x 4/10 = 18% of picks. Had the counts been lost, it would be their plain share, 5/11 = 45%.
        var loaded = new HashSet<string> { "10.0.0.2", "10.0.0.4", "10.0.0.6", "10.0.0.10", "10.0.0.12" };
        var onLoaded = Enumerable.Range(0, 1000).Count(_ => loaded.Contains(resolver.Resolve(Topology.Headers()).Ip()));
        Assert.InRange(onLoaded, 100, 300);
        inFlight.ForEach(r => r.Dispose());
    }
}
