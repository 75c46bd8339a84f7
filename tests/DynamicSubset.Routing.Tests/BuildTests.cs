using System.Globalization;

namespace DynamicSubset.Routing.Tests;

/// <summary>
/// Builds of services large enough that the grouping's probe table grows many times over, against a LINQ grouping
/// of the same endpoints. (The property tests use small services, which never grow it.)
/// </summary>
public class BuildTests
{
    [Theory]
    [InlineData(17, 3)]
    [InlineData(1_000, 7)]
    [InlineData(5_000, 300)]
    public void LargeService_SubsetsEqualALinqGrouping(int count, int stages)
    {
        var random = new Random(count);
        var endpoints = Enumerable.Range(0, count)
            .Select(i => Endpoint.Create(
                string.Create(CultureInfo.InvariantCulture, $"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"),
                8080,
                Topology.Labels(("stage", $"s{random.Next(stages)}"), ("version", $"v{random.Next(5)}")),
                isHealthy: random.Next(10) > 0))
            .OrderBy(_ => random.Next())
            .ToList();
        var policy = new RoutingPolicy(
            new DynamicSubsetPolicy([new SubsetSelector("stage", "version"), new SubsetSelector(BuiltInKeys.IP)]),
            [new HeaderMapping("x-stage", "stage"), new HeaderMapping("x-version", "version"), new HeaderMapping("x-ip", BuiltInKeys.IP)]);

        var index = SubsetIndex.Build(endpoints, policy);

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
