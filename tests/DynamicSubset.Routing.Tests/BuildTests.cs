using System.Globalization;

namespace DynamicSubset.Routing.Tests;

/// <summary>
/// Services large enough that the grouping's probe table grows many times over and a selector table spans many
/// chunks, against a LINQ grouping and a fresh build. (The property tests use small services, which do neither.)
/// </summary>
public class BuildTests
{
    private static readonly RoutingPolicy Policy = new(
        new DynamicSubsetPolicy([new SubsetSelector("stage", "version"), new SubsetSelector(BuiltInKeys.IP)]),
        [new HeaderMapping("x-stage", "stage"), new HeaderMapping("x-version", "version"), new HeaderMapping("x-ip", BuiltInKeys.IP)]);

    private static Endpoint Create(int i, Random random, int stages) => Endpoint.Create(
        string.Create(CultureInfo.InvariantCulture, $"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"),
        8080,
        Topology.Labels(("stage", $"s{random.Next(stages)}"), ("version", $"v{random.Next(5)}")),
        isHealthy: random.Next(10) > 0);

    private static string Describe(SubsetIndex index) =>
        string.Join("\n", index.Subsets.Select(s => $"{s}: {string.Join(" ", s.Endpoints)} / {string.Join(" ", s.RoutableEndpoints)}"));

    [Fact]
    public void LargeService_ChangesAppliedInBatches_EqualAFreshBuild()
    {
        var random = new Random(3);
        var endpoints = Enumerable.Range(0, 4_000).Select(i => Create(i, random, 40)).ToDictionary(e => e.AddressKey);
        var index = SubsetIndex.Build(endpoints.Values, Policy);

        for (var batch = 0; batch < 12; batch++)
        {
            var changes = new List<EndpointChange>();
            foreach (var address in endpoints.Keys.OrderBy(_ => random.Next()).Take(60).ToList())
            {
                switch (random.Next(3))
                {
                    case 0:
                        endpoints.Remove(address);
                        changes.Add(EndpointChange.Remove(address));
                        break;
                    case 1:
                        var relabelled = endpoints[address].WithLabels(Topology.Labels(("stage", $"s{random.Next(40)}"), ("version", "v9")));
                        endpoints[address] = relabelled;
                        changes.Add(EndpointChange.Upsert(relabelled));
                        break;
                    default:
                        var added = Create(10_000 + (batch * 100) + changes.Count, random, 40);
                        endpoints[added.AddressKey] = added;
                        changes.Add(EndpointChange.Upsert(added));
                        break;
                }
            }

            var previous = index;
            var previousEndpoints = previous.Endpoints.Where(e => e.IsHealthy).ToList();
            index = index.Apply(changes);
            Assert.Equal(Describe(SubsetIndex.Build(endpoints.Values, Policy)), Describe(index));

            // The previous snapshot still answers as it did: the update copied what it wrote to.
            var before = new SubsetResolver(previous);
            Assert.All(previousEndpoints, e => Assert.Same(e, before.Resolve(Topology.Headers(("x-ip", e.AddressText))).Endpoint));
        }

        var resolver = new SubsetResolver(index);
        foreach (var endpoint in endpoints.Values.Where(e => e.IsHealthy))
        {
            Assert.Same(endpoint, resolver.Resolve(Topology.Headers(("x-ip", endpoint.AddressText))).Endpoint);
        }
    }

    [Theory]
    [InlineData(17, 3)]
    [InlineData(1_000, 7)]
    [InlineData(5_000, 300)]
    public void LargeService_SubsetsEqualALinqGrouping(int count, int stages)
    {
        var random = new Random(count);
        var endpoints = Enumerable.Range(0, count).Select(i => Create(i, random, stages)).OrderBy(_ => random.Next()).ToList();

        var index = SubsetIndex.Build(endpoints, Policy);

        var expected = endpoints
            .GroupBy(e => $"stage={e.Labels["stage"]}, version={e.Labels["version"]}")
            .Concat(endpoints.GroupBy(e => $"%ip%={e.AddressText}"))
            .ToDictionary(g => g.Key, g => g.OrderBy(e => e.AddressKey).ToList());
        Assert.Equal(expected.Count, index.Subsets.Length);
        foreach (var subset in index.Subsets)
        {
            Assert.Equal(expected[subset.ToString()], subset.Endpoints);
            Assert.Same(subset, index.FindSubset(subset.Pairs));
        }

        // Every healthy endpoint is reachable by its IP, through the request path.
        var resolver = new SubsetResolver(index);
        foreach (var endpoint in endpoints.Where(e => e.IsHealthy).Take(500))
        {
            Assert.Same(endpoint, resolver.Resolve(Topology.Headers(("x-ip", endpoint.AddressText))).Endpoint);
        }
    }
}
