using Microsoft.Extensions.Time.Testing;

namespace DynamicSubset.Routing.Tests;

/// <summary>Outlier detection with Envoy's semantics, on a fake clock: ejection, return, caps, panic, and endpoint churn.</summary>
public class OutlierDetectionTests
{
    private static readonly Dictionary<string, string> ProdV3 = Topology.Headers(("x-stage", "prod"), ("x-version", "v3"));

    private static (SubsetResolver Resolver, FakeTimeProvider Time, Endpoint A, Endpoint B) TwoPods(OutlierDetectionPolicy? outliers)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var a = Topology.Pod("a", "10.0.0.1", "prod", "v3");
        var b = Topology.Pod("b", "10.0.0.2", "prod", "v3");
        var policy = new RoutingPolicy(Topology.StageVersion().DynamicSubset, Topology.StageVersionMappings) { OutlierDetection = outliers };
        return (new SubsetResolver(SubsetIndex.Build([a, b], policy), new Random(1), time), time, a, b);
    }

    private static HashSet<string> Picks(SubsetResolver resolver) => resolver.Ips(ProdV3, 100);

    [Fact]
    public void FiveConsecutive5xx_EjectTheEndpoint_UntilBaseEjectionTime()
    {
        var (resolver, time, a, _) = TwoPods(new OutlierDetectionPolicy(interval: TimeSpan.FromSeconds(1), baseEjectionTime: TimeSpan.FromSeconds(30), maxEjectionPercent: 50));

        var ejected = Enumerable.Range(0, 5).Select(_ => resolver.ReportResponse(a, 503)).ToList();

        Assert.Equal([false, false, false, false, true], ejected);
        Assert.Equal(["10.0.0.2"], Picks(resolver));
        var ejection = Assert.Single(resolver.Ejections);
        Assert.Equal((a.AddressKey, DateTimeOffset.UnixEpoch.AddSeconds(30), 1), (ejection.Address, ejection.Until, ejection.Times));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(["10.0.0.2"], Picks(resolver));
        time.Advance(TimeSpan.FromSeconds(1)); // the review at 30 s returns it

        Assert.Empty(resolver.Ejections);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], Picks(resolver).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ASuccess_EndsTheRun()
    {
        var (resolver, _, a, _) = TwoPods(new OutlierDetectionPolicy(maxEjectionPercent: 50));

        for (var i = 0; i < 4; i++)
        {
            resolver.ReportResponse(a, 500);
        }

        resolver.ReportResponse(a, 200);
        var ejected = Enumerable.Range(0, 4).Count(_ => resolver.ReportResponse(a, 500));

        Assert.Equal(0, ejected);
        Assert.Empty(resolver.Ejections);
    }

    [Fact]
    public void LocalFailures_CountAsGatewayErrors()
    {
        var (resolver, _, a, _) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 0, consecutiveGatewayErrors: 3, maxEjectionPercent: 50));

        resolver.ReportResponse(a, 500); // a 5xx that is not a gateway error ends no gateway run, and counts for none
        Assert.False(resolver.ReportFailure(a));
        Assert.False(resolver.ReportResponse(a, 504));

        Assert.True(resolver.ReportFailure(a));
    }

    [Fact]
    public void EachEjection_LastsLonger_AndTheMultiplierDecays()
    {
        var (resolver, time, a, _) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 1, interval: TimeSpan.FromSeconds(10), baseEjectionTime: TimeSpan.FromSeconds(10), maxEjectionPercent: 50));

        Assert.True(resolver.ReportResponse(a, 500));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(resolver.Ejections);
        Assert.True(resolver.ReportResponse(a, 500)); // the second time: 20 s

        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(30), Assert.Single(resolver.Ejections).Until);
    }

    [Fact]
    public void MaxEjectionPercent_CapsEjections_ButOneMayAlwaysGo()
    {
        var (resolver, _, a, b) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 1)); // 10% of 2 rounds to 0: one still may

        Assert.True(resolver.ReportResponse(a, 500));
        Assert.False(resolver.ReportResponse(b, 500));

        Assert.Equal(["10.0.0.2"], Picks(resolver));
    }

    [Fact]
    public void BelowMinHealthPercent_EjectionStops_AndEveryEndpointTakesTraffic()
    {
        var (resolver, _, a, b) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 1, maxEjectionPercent: 100, minHealthPercent: 50));

        Assert.True(resolver.ReportResponse(a, 500));
        Assert.Equal(["10.0.0.2"], Picks(resolver)); // 50% healthy: not below the threshold
        Assert.True(resolver.ReportResponse(b, 500));

        Assert.Equal(2, resolver.Ejections.Count);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], Picks(resolver).Order(StringComparer.Ordinal)); // panic: both balance
    }

    [Fact]
    public void WithoutPanic_EveryEndpointEjected_IsNoHealthyUpstream()
    {
        var (resolver, _, a, b) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 1, maxEjectionPercent: 100));

        resolver.ReportResponse(a, 500);
        resolver.ReportResponse(b, 500);

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, resolver.Resolve(ProdV3).Outcome);
    }

    [Fact]
    public void EndpointChanges_KeepTheEjectionOfTheAddressesThatCarryOn()
    {
        var (resolver, time, a, b) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 1, baseEjectionTime: TimeSpan.FromSeconds(30), maxEjectionPercent: 50));
        resolver.ReportResponse(a, 500);
        var c = Topology.Pod("c", "10.0.0.3", "prod", "v3");

        resolver.ReplaceEndpoints([a, b, c]); // a configuration reload says a is healthy: it stays ejected
        Assert.Equal(["10.0.0.2", "10.0.0.3"], Picks(resolver).Order(StringComparer.Ordinal));
        resolver.ApplyChanges([EndpointChange.SetLabels(a.AddressKey, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3", ["zone"] = "z" })]);
        Assert.Equal(["10.0.0.2", "10.0.0.3"], Picks(resolver).Order(StringComparer.Ordinal));

        time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], Picks(resolver).Order(StringComparer.Ordinal));
        Assert.True(resolver.Current.Endpoints.Single(e => e.AddressKey == a.AddressKey).IsHealthy);
    }

    [Fact]
    public void AnEjectedEndpoint_IsUnhealthyInCurrent_AndAsConfiguredInConfigured()
    {
        var (resolver, _, a, _) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 1, maxEjectionPercent: 50));

        Assert.True(resolver.ReportResponse(a, 500));

        Assert.False(resolver.Current.Endpoints.Single(e => e.AddressKey == a.AddressKey).IsHealthy);
        Assert.True(resolver.Configured.Endpoints.Single(e => e.AddressKey == a.AddressKey).IsHealthy);
    }

    [Fact]
    public void StateIsKeptOnlyForFailures_AndForgottenWhenTheAddressLeaves()
    {
        var (resolver, _, a, b) = TwoPods(new OutlierDetectionPolicy(maxEjectionPercent: 50));

        for (var i = 0; i < 100; i++)
        {
            resolver.ReportResponse(b, 200);
        }

        Assert.Equal(0, resolver.TrackedAddresses); // successes alone keep nothing
        resolver.ReportResponse(a, 500);
        Assert.Equal(1, resolver.TrackedAddresses);

        resolver.ReplaceEndpoints([b, Topology.Pod("c", "10.0.0.3", "prod", "v3")]); // a leaves, with one failure in its run

        Assert.Equal(0, resolver.TrackedAddresses);
        resolver.ReplaceEndpoints([a, b]); // back, with a new run
        Assert.Equal(0, Enumerable.Range(0, 4).Count(_ => resolver.ReportResponse(a, 500)));
        Assert.True(resolver.ReportResponse(a, 500)); // five in a row from its return, not six
    }

    [Fact]
    public void AnEndpointUnhealthyInConfiguration_StaysUnhealthyWhenItsEjectionEnds()
    {
        var (resolver, time, a, b) = TwoPods(new OutlierDetectionPolicy(consecutive5xxErrors: 1, baseEjectionTime: TimeSpan.FromSeconds(30), maxEjectionPercent: 50));
        resolver.ReportResponse(a, 500);

        resolver.ApplyChanges([EndpointChange.SetHealth(a.AddressKey, isHealthy: false)]);
        time.Advance(TimeSpan.FromSeconds(40));

        Assert.Equal(["10.0.0.2"], Picks(resolver));
        _ = b;
    }

    [Fact]
    public void WithoutOutlierDetection_ReportsChangeNothing()
    {
        var (resolver, _, a, _) = TwoPods(outliers: null);

        var ejected = Enumerable.Range(0, 50).Count(_ => resolver.ReportResponse(a, 503) || resolver.ReportFailure(a));

        Assert.Equal(0, ejected);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], Picks(resolver).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(-1, 0, 10, 0, "outlierDetection.consecutive5xxErrors")]
    [InlineData(5, -1, 10, 0, "outlierDetection.consecutiveGatewayErrors")]
    [InlineData(5, 0, 101, 0, "outlierDetection.maxEjectionPercent")]
    [InlineData(5, 0, 10, 101, "outlierDetection.minHealthPercent")]
    public void InvalidPolicy_NamesTheField(int c5, int cg, int maxEjection, int minHealth, string field)
    {
        var error = Assert.Throws<RoutingValidationException>(() => new OutlierDetectionPolicy(c5, cg, maxEjectionPercent: maxEjection, minHealthPercent: minHealth));

        Assert.Equal(field, error.FieldPath);
    }
}
