using Microsoft.Extensions.Configuration;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary><c>localityLbSetting</c> and a WorkloadEntry's <c>locality</c> as read from YAML and from options; bad values are positioned errors.</summary>
public class LocalityConfigurationTests
{
    private static MeshConfiguration Rule(string setting, string outliers = "outlierDetection: {consecutive5xxErrors: 1}") => Fixtures.Parse($$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: helloworld, namespace: default}
        spec:
          host: helloworld
          trafficPolicy:
            {{outliers}}
            loadBalancer:
              localityLbSetting: {{setting}}
        """);

    [Fact]
    public void EveryField_IsCompiledOntoThePolicy_WithoutDSR2001()
    {
        var failover = Rule("{enabled: true, failover: [{from: us-east, to: eu-west}], failoverPriority: [topology.kubernetes.io/region, network]}");
        var distribute = Rule("{distribute: [{from: 'us-east/zone1/*', to: {'us-east/zone1/*': 70, 'us-east/zone2/*': 30}}]}");

        Assert.False(failover.HasErrors || distribute.HasErrors, string.Join("\n", failover.Diagnostics.Concat(distribute.Diagnostics)));
        Assert.DoesNotContain(failover.Diagnostics.Concat(distribute.Diagnostics), d => d.Code == "DSR2001");
        var f = Assert.Single(failover.Services).Policy.Locality;
        Assert.Equal([new LocalityFailover("us-east", "eu-west")], f.Failover);
        Assert.Equal(["topology.kubernetes.io/region", "network"], f.FailoverPriority);
        var d = Assert.Single(Assert.Single(distribute.Services).Policy.Locality.Distribute);
        Assert.Equal(("us-east/zone1/*", "us-east/zone1/*=70, us-east/zone2/*=30"), (d.From, string.Join(", ", d.To.Select(t => $"{t.Key}={t.Value}"))));
    }

    [Theory]
    [InlineData("{distribute: [{from: a, to: {a: 60, b: 30}}]}", "test.yaml:9:54: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: the weights add up to 90; they must add up to 100")]
    [InlineData("{distribute: [{from: a, to: {a: 160}}]}", "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to.a: ")]
    [InlineData("{failover: [{from: a, to: a}]}", "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].to: a region cannot fail over to itself ('a')")]
    [InlineData("{failover: [{from: a}]}", "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].to: ")]
    [InlineData("{distribute: [{from: a, to: {a: 100}}], failover: [{from: a, to: b}]}", "spec.trafficPolicy.loadBalancer.localityLbSetting.failover: distribute and failover cannot both be set")]
    [InlineData("{enabled: yes-please}", "spec.trafficPolicy.loadBalancer.localityLbSetting.enabled: ")]
    [InlineData("{failovr: []}", "spec.trafficPolicy.loadBalancer.localityLbSetting.failovr: ")]
    public void BadSettings_ArePositionedErrors(string setting, string expected)
    {
        var config = Rule(setting);

        Assert.True(config.HasErrors);
        Assert.Contains(config.Diagnostics, d => d.Severity == DiagnosticSeverity.Error &&
            (d.ToString().StartsWith(expected, StringComparison.Ordinal) || $"{d.Path}: {d.Message}".StartsWith(expected, StringComparison.Ordinal)));
    }

    [Fact]
    public void Failover_WithoutOutlierDetection_IsWarned()
    {
        var config = Rule("{failover: [{from: a, to: b}]}", outliers: "");

        var warning = Assert.Single(config.Diagnostics, d => d.Code == "DSR2018");
        Assert.Equal(("spec.trafficPolicy.loadBalancer.localityLbSetting", DiagnosticSeverity.Warning), (warning.Path, warning.Severity));
    }

    [Fact]
    public void AWorkloadEntrysLocality_BecomesTheTopologyLabels_AndABadOneIsAnError()
    {
        static MeshConfiguration Entry(string locality) => Fixtures.Parse($$$"""
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm1, namespace: default}
            spec: {address: 10.1.0.1, labels: {app: legacy}, locality: {{{locality}}}}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: legacy, namespace: default}
            spec:
              hosts: [legacy.example.com]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: STATIC
              workloadSelector: {labels: {app: legacy}}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: legacy, namespace: default}
            spec: {host: legacy.example.com}
            """);

        var endpoint = Assert.Single(Assert.Single(Entry("us-east/zone1/rack7").Services).Endpoints);
        Assert.Equal(new Locality("us-east", "zone1", "rack7"), Locality.Of(endpoint.Labels));

        var bad = Entry("'/nowhere'");
        Assert.Contains(bad.Diagnostics, d => d.Code == "DSR1005" && d.Path == "spec.locality" && d.Message.Contains("is not a locality", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_ReadTheSameSetting_AndNameTheFieldOfABadOne()
    {
        static DynamicSubsetRoutingOptions Bind(params (string Key, string Value)[] pairs)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();
            var options = new DynamicSubsetRoutingOptions();
            configuration.Bind(options);
            return options;
        }

        var options = Bind(
            ("TrafficPolicy:LoadBalancer:LocalityLbSetting:Distribute:0:From", "us-east/*"),
            ("TrafficPolicy:LoadBalancer:LocalityLbSetting:Distribute:0:To:us-east/zone1/*", "25"),
            ("TrafficPolicy:LoadBalancer:LocalityLbSetting:Distribute:0:To:us-west/*", "75"));
        var distribution = Assert.Single(options.ToRoutingPolicy().Locality.Distribute);
        Assert.Equal(100, distribution.To.Sum(t => t.Value));

        var bad = Bind(
            ("TrafficPolicy:LoadBalancer:LocalityLbSetting:Failover:0:From", "us-east"),
            ("TrafficPolicy:LoadBalancer:LocalityLbSetting:Failover:0:To", "us-east"));
        var error = Assert.Throws<RoutingValidationException>(bad.ToRoutingPolicy);
        Assert.Equal("trafficPolicy.loadBalancer.localityLbSetting.failover[0].to", error.FieldPath);
    }
}
