namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>The DestinationRule YAML and appsettings.json accept the same enum values, with the same meaning.</summary>
public class MeshEnumTests
{
    private static string Rule(string simple)
    {
        var yaml = Fixtures.Dr.Replace("      dynamicSubset:", $"      simple: {simple}\n      dynamicSubset:", StringComparison.Ordinal);
        Assert.Contains($"simple: {simple}", yaml, StringComparison.Ordinal);
        return yaml;
    }

    [Theory]
    [InlineData("ROUND_ROBIN", LoadBalancingPolicy.RoundRobin, false)]
    [InlineData("LEAST_REQUEST", LoadBalancingPolicy.LeastRequest, false)]
    [InlineData("LEAST_CONN", LoadBalancingPolicy.LeastRequest, false)]
    [InlineData("UNSPECIFIED", LoadBalancingPolicy.LeastRequest, false)]
    [InlineData("PASSTHROUGH", LoadBalancingPolicy.LeastRequest, true)]
    public void Simple_YamlAndOptions_Agree(string simple, LoadBalancingPolicy expected, bool warned)
    {
        var yaml = Fixtures.Parse(Rule(simple));
        var options = new DynamicSubsetRoutingOptions();
        options.TrafficPolicy.LoadBalancer.Simple = simple;
        var selector = new SubsetSelectorOptions();
        selector.Keys.Add("stage");
        options.TrafficPolicy.LoadBalancer.DynamicSubset.SubsetSelectors.Add(selector);

        Assert.False(yaml.HasErrors);
        Assert.Equal(expected, Assert.Single(yaml.Services).Policy.LoadBalancing);
        Assert.Equal(expected, options.ToRoutingPolicy().LoadBalancing);
        Assert.Equal(warned, yaml.Diagnostics.Any(d => d.Code == "DSR2001" && d.Path == "spec.trafficPolicy.loadBalancer.simple"));
    }

    [Fact]
    public void UnknownSimple_HasTheSameMessage_InYamlAndOptions()
    {
        var yaml = Fixtures.Parse(Rule("FASTEST"));
        var options = new DynamicSubsetRoutingOptions();
        options.TrafficPolicy.LoadBalancer.Simple = "FASTEST";
        var selector = new SubsetSelectorOptions();
        selector.Keys.Add("stage");
        options.TrafficPolicy.LoadBalancer.DynamicSubset.SubsetSelectors.Add(selector);

        var error = Assert.Single(yaml.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var thrown = Assert.Throws<RoutingValidationException>(options.ToRoutingPolicy);

        Assert.Equal(error.Message, thrown.Reason);
        Assert.Equal("unknown value 'FASTEST' (expected LEAST_REQUEST, ROUND_ROBIN, RANDOM)", thrown.Reason);
    }
}
