using Microsoft.Extensions.Time.Testing;

namespace DynamicSubset.Routing.Tests;

/// <summary>
/// <c>localityLbSetting</c> through the public routing step: failover priorities (Istio's table), distribute shares,
/// failoverPriority labels, and that nothing changes without outlier detection or without the caller's locality.
/// </summary>
public class LocalityTests
{
    private static readonly Locality Caller = new("region1", "zone1");

    // The Istio task's layout: two pods in the caller's zone, one in its region's other zone, one in the failover region, one elsewhere.
    private static readonly Endpoint[] Pods =
    [
        Pod("10.0.0.1", "region1", "zone1"),
        Pod("10.0.0.2", "region1", "zone1"),
        Pod("10.0.0.3", "region1", "zone2"),
        Pod("10.0.0.4", "region2", "zone3"),
        Pod("10.0.0.5", "region3", "zone4"),
    ];

    private static Endpoint Pod(string ip, string region, string zone, params (string Key, string Value)[] more) =>
        Endpoint.Create(ip, 80, new Dictionary<string, string>([new(Locality.RegionLabel, region), new(Locality.ZoneLabel, zone), .. more.Select(m => new KeyValuePair<string, string>(m.Key, m.Value))]));

    private static (RoutedService Service, SubsetResolver Resolver) Service(LocalityLoadBalancing locality, bool outlierDetection = true, Endpoint[]? pods = null)
    {
        var policy = new RoutingPolicy(DynamicSubsetPolicy.None, [])
        {
            OutlierDetection = outlierDetection ? new OutlierDetectionPolicy(consecutive5xxErrors: 1, maxEjectionPercent: 100) : null,
            Locality = locality,
        };
        var resolver = new SubsetResolver(SubsetIndex.Build(pods ?? Pods, policy), new Random(7), new FakeTimeProvider());
        return (new RoutedService("hello", resolver), resolver);
    }

    private static Dictionary<string, int> Spread(RoutedService service, Locality? caller, int requests = 2000, IReadOnlyDictionary<string, string>? labels = null)
    {
        var request = new RouteRequest("GET", "/") { SourceLocality = caller, SourceLabels = labels };
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < requests; i++)
        {
            var ip = service.Route(request, new DictionaryHeaderSource(new Dictionary<string, string>())).Resolution.Endpoint!.Address.ToString();
            counts[ip] = counts.GetValueOrDefault(ip) + 1;
        }

        return counts;
    }

    private static void Eject(SubsetResolver resolver, string ip) =>
        Assert.True(resolver.ReportResponse(resolver.Configured.Endpoints.Single(e => e.Address.ToString() == ip), 503));

    [Fact]
    public void Failover_StaysInTheCallersZone_ThenFollowsIstiosPriorityOrder()
    {
        var (service, resolver) = Service(LocalityLoadBalancing.Default with { Failover = [new LocalityFailover("region1", "region2")] });

        Assert.Equal(["10.0.0.1", "10.0.0.2"], Spread(service, Caller).Keys.Order(StringComparer.Ordinal));

        // Half the zone ejected: 50% healthy x 1.4 = 70% stays, the rest spills to the next priority (the other zone).
        Eject(resolver, "10.0.0.1");
        var spread = Spread(service, Caller, 4000);
        Assert.Equal(["10.0.0.2", "10.0.0.3"], spread.Keys.Order(StringComparer.Ordinal));
        Assert.InRange(spread["10.0.0.2"], 2600, 3000); // 70% of 4000 is 2800

        Eject(resolver, "10.0.0.2");
        Assert.Equal(["10.0.0.3"], Spread(service, Caller).Keys);

        Eject(resolver, "10.0.0.3");
        Assert.Equal(["10.0.0.4"], Spread(service, Caller).Keys); // the failover region before the others

        Eject(resolver, "10.0.0.4");
        Assert.Equal(["10.0.0.5"], Spread(service, Caller).Keys);
    }

    [Fact]
    public void WithoutFailoverEntries_OtherRegionsShareTheLastPriority()
    {
        var (service, resolver) = Service(LocalityLoadBalancing.Default);
        foreach (var ip in new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3" })
        {
            Eject(resolver, ip);
        }

        Assert.Equal(["10.0.0.4", "10.0.0.5"], Spread(service, Caller).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WithoutOutlierDetection_OrWithoutTheCallersLocality_OrDisabled_EveryPodTakesRequests()
    {
        var all = Pods.Select(p => p.Address.ToString()).ToArray();

        Assert.Equal(all, Spread(Service(LocalityLoadBalancing.Default, outlierDetection: false).Service, Caller).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(all, Spread(Service(LocalityLoadBalancing.Default).Service, caller: null).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(all, Spread(Service(LocalityLoadBalancing.Default with { Enabled = false }).Service, Caller).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Distribute_SplitsByWeight_WithoutOutlierDetection_AndOnlyForCallersItNames()
    {
        var rule = LocalityLoadBalancing.Default with
        {
            Distribute = [new LocalityDistribution("region1/zone1/*", [new("region1/zone1/*", 80), new("region2/*", 20)])],
        };
        var (service, _) = Service(rule, outlierDetection: false);

        var spread = Spread(service, Caller, 10_000);

        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.4"], spread.Keys.Order(StringComparer.Ordinal));
        Assert.InRange(spread["10.0.0.1"] + spread["10.0.0.2"], 7800, 8200);
        Assert.InRange(spread["10.0.0.4"], 1800, 2200);

        // A caller elsewhere is not named by any entry: no distribute, and no failover without outlier detection.
        Assert.Equal(5, Spread(service, new Locality("region3", "zone4")).Count);
    }

    [Fact]
    public void FailoverPriority_RanksByLeadingLabelsShared_WithTheCallersLabels()
    {
        var pods = new[]
        {
            Pod("10.0.1.1", "region1", "zone1", ("network", "a")),
            Pod("10.0.1.2", "region2", "zone9", ("network", "a")),
            Pod("10.0.1.3", "region1", "zone1", ("network", "b")),
        };
        var (service, resolver) = Service(LocalityLoadBalancing.Default with { FailoverPriority = ["network", Locality.RegionLabel] }, pods: pods);
        var labels = new Dictionary<string, string> { ["network"] = "a" };

        // network=a and region1 match first; then network=a alone (another region), before the caller's own zone on network b.
        Assert.Equal(["10.0.1.1"], Spread(service, Caller, labels: labels).Keys);
        Eject(resolver, "10.0.1.1");
        Assert.Equal(["10.0.1.2"], Spread(service, Caller, labels: labels).Keys);
    }

    [Fact]
    public void ARetry_TriesTheNextPriorityInOrder()
    {
        var (service, _) = Service(LocalityLoadBalancing.Default with { Failover = [new LocalityFailover("region1", "region2")] });
        var first = service.Route(new RouteRequest("GET", "/") { SourceLocality = Caller }, new DictionaryHeaderSource(new Dictionary<string, string>())).Resolution;
        var tried = new List<EndpointAddress> { first.Endpoint!.AddressKey };
        var order = new List<string> { first.Endpoint.Address.ToString() };
        while (first.TryPickAnother(tried, out var next))
        {
            tried.Add(next.Endpoint!.AddressKey);
            order.Add(next.Endpoint.Address.ToString());
        }

        Assert.Equal(Pods.Length, order.Count);

        Assert.Equal(["10.0.0.1", "10.0.0.2"], order[..2].Order(StringComparer.Ordinal));
        Assert.Equal(["10.0.0.3", "10.0.0.4", "10.0.0.5"], order[2..]);
    }

    [Fact]
    public void TwoCallersWithEqualIdentities_ShareTheRanks_AndPickWithoutAllocating()
    {
        // Two entry points of one process (two named HttpClients, say), each with its own label dictionary: only the
        // failoverPriority labels' values count, so they share one table rather than rebuilding it on every pick by turns.
        var (_, resolver) = Service(LocalityLoadBalancing.Default with { FailoverPriority = ["network", Locality.RegionLabel] });
        var first = new Internal.CallerContext(new Locality("region1", "zone1"), new Dictionary<string, string> { ["network"] = "a", ["app"] = "one" });
        var second = new Internal.CallerContext(new Locality("region1", "zone1"), new Dictionary<string, string> { ["network"] = "a", ["app"] = "two" });
        var headers = new DictionaryHeaderSource(new Dictionary<string, string>());

        var bytes = AllocationTests.Measure(() =>
        {
            _ = resolver.Resolve(headers, null, first);
            _ = resolver.Resolve(headers, null, second);
        });

        Assert.Equal(0, bytes);
    }

    [Theory]
    [InlineData("us-west", "us-west", "", "")]
    [InlineData("us-west/zone1", "us-west", "zone1", "")]
    [InlineData("us-west/zone1/rack2", "us-west", "zone1", "rack2")]
    public void Parse_TakesOneToThreeParts(string text, string region, string zone, string subzone)
    {
        var locality = Locality.Parse(text);

        Assert.Equal((region, zone, subzone, text), (locality.Region, locality.Zone, locality.Subzone, locality.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/zone")]
    [InlineData("a/b/c/d")]
    [InlineData(" a/ b")]
    public void Parse_RefusesWhatIsNotALocality(string text) =>
        Assert.Contains("is not a locality", Assert.Throws<FormatException>(() => Locality.Parse(text)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("us-west/zone1/*", true)]
    [InlineData("us-west/*", true)]
    [InlineData("*", true)]
    [InlineData("us-west", true)]
    [InlineData("us-west/zone2/*", false)]
    [InlineData("us-east/*", false)]
    public void IsWithin_MatchesIstiosPatterns(string pattern, bool expected) =>
        Assert.Equal(expected, new Locality("us-west", "zone1", "rack2").IsWithin(pattern));
}
