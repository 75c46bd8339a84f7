using System.Net;
using static DynamicSubset.Routing.Tests.Routes.Routing;

namespace DynamicSubset.Routing.Tests.Routes;

/// <summary><c>consistentHash</c>: affinity by header, cookie, query parameter or source IP, on a ring or a Maglev table.</summary>
public class ConsistentHashTests
{
    public static TheoryData<ConsistentHashAlgorithm> Algorithms => [ConsistentHashAlgorithm.RingHash, ConsistentHashAlgorithm.Maglev];

    private static List<Endpoint> Pods(int count) =>
        [.. Enumerable.Range(1, count).Select(i => Endpoint.Create($"10.1.{i / 250}.{(i % 250) + 1}", 8080, new Dictionary<string, string> { ["app"] = "shop" }, name: $"shop-{i}"))];

    private static RoutingPolicy Hashed(ConsistentHashPolicy hash, ConsistentHashAlgorithm algorithm) =>
        new(DynamicSubsetPolicy.None, []) { ConsistentHash = algorithm == ConsistentHashAlgorithm.Maglev ? hash with { Algorithm = algorithm } : hash };

    private static string Pick(RoutedService pool, string user) =>
        Route(pool, headers: ("x-user", user)).Resolution.Endpoint!.Authority;

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void TheSameKey_AlwaysGoesToTheSameEndpoint_AndKeysSpreadOverAll(ConsistentHashAlgorithm algorithm)
    {
        var pool = Pool("shop", Pods(8), Hashed(ConsistentHashPolicy.ForHeader("x-user"), algorithm));

        var first = Enumerable.Range(0, 2000).ToDictionary(i => i, i => Pick(pool, $"user-{i}"));

        Assert.All(first, pair => Assert.Equal(pair.Value, Pick(pool, $"user-{pair.Key}")));
        var perEndpoint = first.Values.GroupBy(a => a).Select(g => g.Count()).ToList();
        Assert.Equal(8, perEndpoint.Count);
        Assert.All(perEndpoint, n => Assert.InRange(n, 2000 / 8 / 2, 2000 / 8 * 2)); // roughly even
    }

    public static TheoryData<ConsistentHashAlgorithm, int> AlgorithmsAndSizes()
    {
        var data = new TheoryData<ConsistentHashAlgorithm, int>();
        foreach (var algorithm in Enum.GetValues<ConsistentHashAlgorithm>())
        {
            foreach (var n in new[] { 3, 8, 10, 17, 64 }) // 8 to 7 is where a ring sized to its minimum doubles every endpoint's points
            {
                data.Add(algorithm, n);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AlgorithmsAndSizes))]
    public void RemovingOneEndpoint_MovesOnlyItsShareOfTheKeys(ConsistentHashAlgorithm algorithm, int n)
    {
        const int keys = 10_000;
        var pods = Pods(n);
        var pool = Pool("shop", pods, Hashed(ConsistentHashPolicy.ForHeader("x-user"), algorithm));
        var before = Enumerable.Range(0, keys).Select(i => Pick(pool, $"u{i}")).ToArray();

        var gone = pods[n / 2];
        pool.Resolver.ReplaceEndpoints(pods.Where(p => p != gone));
        var after = Enumerable.Range(0, keys).Select(i => Pick(pool, $"u{i}")).ToArray();

        var moved = Enumerable.Range(0, keys).Count(i => before[i] != after[i]);
        var ownKeys = before.Count(a => a == gone.Authority);
        var others = Enumerable.Range(0, keys).Count(i => before[i] != gone.Authority && before[i] != after[i]);
        Assert.DoesNotContain(gone.Authority, after);
        Assert.InRange(moved, ownKeys, (int)(keys * ((1.0 / n) + 0.05)));
        Assert.True(others <= keys * 0.05, $"{others} keys of other endpoints moved");
    }

    [Fact]
    public void AnUnhealthyEndpoint_LosesOnlyItsOwnKeys_OnTheRing()
    {
        var pods = Pods(6);
        var pool = Pool("shop", pods, Hashed(ConsistentHashPolicy.ForHeader("x-user"), ConsistentHashAlgorithm.RingHash));
        var before = Enumerable.Range(0, 3000).Select(i => Pick(pool, $"k{i}")).ToArray();

        pool.Resolver.ReplaceEndpoints(pods.Select((p, i) => i == 2 ? Endpoint.Create(p.AddressText, p.Port, p.Labels, isHealthy: false, name: p.Name) : p));
        var after = Enumerable.Range(0, 3000).Select(i => Pick(pool, $"k{i}")).ToArray();

        Assert.All(Enumerable.Range(0, 3000).Where(i => before[i] != pods[2].Authority), i => Assert.Equal(before[i], after[i]));
    }

    [Fact]
    public void ARequestWithoutTheKey_IsBalancedAsUsual()
    {
        var pool = Pool("shop", Pods(4), Hashed(ConsistentHashPolicy.ForHeader("x-user"), ConsistentHashAlgorithm.RingHash));

        var reached = Enumerable.Range(0, 400).Select(_ => Route(pool).Resolution.Endpoint!.Authority).Distinct().Count();

        Assert.Equal(4, reached);
    }

    [Fact]
    public void QueryParameterAndSourceIp_AreKeysToo()
    {
        var byQuery = Pool("shop", Pods(8), Hashed(ConsistentHashPolicy.ForQueryParameter("session"), ConsistentHashAlgorithm.RingHash));
        var bySource = Pool("shop", Pods(8), Hashed(ConsistentHashPolicy.ForSourceIp(), ConsistentHashAlgorithm.Maglev));
        var none = new DictionaryHeaderSource(new Dictionary<string, string>());

        string Query(string session) => byQuery.Route(new RouteRequest("GET", $"/cart?session={session}&x=1"), none).Resolution.Endpoint!.Authority;
        string Source(string ip) => bySource.Route(new RouteRequest("GET", "/", sourceIp: IPAddress.Parse(ip)), none).Resolution.Endpoint!.Authority;

        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(Query($"s{i}"), Query($"s{i}")));
        Assert.True(Enumerable.Range(0, 50).Select(i => Query($"s{i}")).Distinct().Count() > 4);
        Assert.Equal(Source("203.0.113.9"), Source("::ffff:203.0.113.9")); // an IPv4 address mapped to IPv6 is the same caller
        Assert.True(Enumerable.Range(1, 50).Select(i => Source($"203.0.113.{i}")).Distinct().Count() > 4);
    }

    [Fact]
    public void AMissingCookie_IsGeneratedWhenATtlIsSet_AndTheNextRequestFollowsIt()
    {
        var pool = Pool("shop", Pods(8), Hashed(ConsistentHashPolicy.ForCookie("affinity", "/", TimeSpan.FromMinutes(5)), ConsistentHashAlgorithm.RingHash));

        var first = Route(pool);
        Assert.Matches("^affinity=[0-9a-f]{16}; Path=/; Max-Age=300; HttpOnly$", first.SetCookie);
        var value = first.SetCookie![..first.SetCookie!.IndexOf(';', StringComparison.Ordinal)];

        var again = Enumerable.Range(0, 20).Select(_ => Route(pool, headers: ("Cookie", $"theme=dark; {value}"))).ToList();
        Assert.All(again, d => Assert.Equal(first.Resolution.Endpoint!.Authority, d.Resolution.Endpoint!.Authority));
        Assert.All(again, d => Assert.Null(d.SetCookie));

        var noTtl = Pool("shop", Pods(8), Hashed(ConsistentHashPolicy.ForCookie("affinity"), ConsistentHashAlgorithm.RingHash));
        Assert.Null(Route(noTtl).SetCookie); // as Envoy: without a TTL, no cookie is made
    }

    [Fact]
    public void HashingWorksInsideTheMatchedDynamicSubset()
    {
        var policy = new RoutingPolicy(
            new DynamicSubsetPolicy([new SubsetSelector(["stage"])]),
            [new HeaderMapping("x-stage", "stage")])
        { ConsistentHash = ConsistentHashPolicy.ForHeader("x-user") };
        var pool = Pool("helloworld", Topology.Helloworld, policy);

        var prod = Enumerable.Range(0, 100).Select(i => Route(pool, headers: [("x-stage", "prod"), ("x-user", $"u{i}")]).Resolution).ToList();

        Assert.All(prod, r => Assert.Equal("stage=prod", r.Subset!.ToString()));
        Assert.All(Enumerable.Range(0, 100), i =>
            Assert.Equal(prod[i].Endpoint, Route(pool, headers: [("x-stage", "prod"), ("x-user", $"u{i}")]).Resolution.Endpoint));
    }

    [Fact]
    public void Policy_ValidatesItsFields()
    {
        Assert.Equal("maglev.tableSize", Assert.Throws<RoutingValidationException>(() => ConsistentHashPolicy.ForSourceIp() with { TableSize = 65536 }).FieldPath);
        Assert.Equal("ringHash.minimumRingSize", Assert.Throws<RoutingValidationException>(() => ConsistentHashPolicy.ForSourceIp() with { MinimumRingSize = 0 }).FieldPath);
        Assert.Equal("httpCookie.name", Assert.Throws<RoutingValidationException>(() => ConsistentHashPolicy.ForCookie("a;b")).FieldPath);
        Assert.Equal("httpHeaderName", Assert.Throws<RoutingValidationException>(() => ConsistentHashPolicy.ForHeader(" ")).FieldPath);
        Assert.Equal("httpCookie.ttl", Assert.Throws<RoutingValidationException>(() => ConsistentHashPolicy.ForCookie("a", ttl: TimeSpan.FromSeconds(-1))).FieldPath);
    }
}
