namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>
/// A compile of a <see cref="MeshDocumentSet"/> takes the endpoints the last one made for a host fed by ServiceEntries
/// alone, when those ServiceEntries are the same documents: what a reload of other files costs is what they change.
/// </summary>
public class EndpointMemoTests
{
    private static string Entry(string name, string address, string extra = "") => $$$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: {{{name}}}, namespace: default}
        spec:
          hosts: [{{{name}}}.example]
          resolution: STATIC
          ports: [{number: 80, name: http}]
          endpoints:
            - {address: {{{address}}}, labels: {stage: prod}}{{{extra}}}
        """;

    private static string Rule(string name, string fallback) => $$$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: {{{name}}}, namespace: default}
        spec:
          host: {{{name}}}.example
          trafficPolicy: {loadBalancer: {dynamicSubset: {fallbackPolicy: {{{fallback}}}, subsetSelectors: [{keys: [stage]}] } } }
        """;

    private static Endpoint[] EndpointsOf(MeshConfiguration config, string host) => [.. config.Services.Single(s => s.Host == host).Endpoints];

    [Fact]
    public void AnEditToOneServicesRule_KeepsTheOtherServicesEndpointObjects_AndMakesNewOnesForAnEditedEntry()
    {
        var set = new MeshDocumentSet();
        Assert.Empty(set.Set("a.yaml", Entry("a", "10.0.0.1") + "\n---\n" + Rule("a", "NO_FALLBACK")));
        Assert.Empty(set.Set("b.yaml", Entry("b", "10.0.0.2") + "\n---\n" + Rule("b", "NO_FALLBACK")));
        var first = set.Compile();

        // a's rule is edited: its file is parsed again, so its ServiceEntry is a new document; b's file is not.
        Assert.Empty(set.Set("a.yaml", Entry("a", "10.0.0.1") + "\n---\n" + Rule("a", "ANY_ENDPOINT")));
        var second = set.Compile();

        Assert.Same(Assert.Single(EndpointsOf(first, "b.example")), Assert.Single(EndpointsOf(second, "b.example")));
        Assert.NotSame(Assert.Single(EndpointsOf(first, "a.example")), Assert.Single(EndpointsOf(second, "a.example")));
        Assert.Equal(EndpointsOf(first, "a.example"), EndpointsOf(second, "a.example"));

        // And b's entry edited: its new endpoints, not the kept ones.
        Assert.Empty(set.Set("b.yaml", Entry("b", "10.0.0.3") + "\n---\n" + Rule("b", "NO_FALLBACK")));
        Assert.Equal("10.0.0.3:80", Assert.Single(EndpointsOf(set.Compile(), "b.example")).Authority);
    }

    [Fact]
    public void AnEntryWithAWarning_IsMadeAgainEachCompile_SoTheWarningIsNeverLost()
    {
        var set = new MeshDocumentSet();
        Assert.Empty(set.Set("a.yaml", Entry("a", "10.0.0.1", "\n    - {address: 10.0.0.1, labels: {stage: dev}}") + "\n---\n" + Rule("a", "NO_FALLBACK")));
        Assert.Empty(set.Set("b.yaml", Entry("b", "10.0.0.2") + "\n---\n" + Rule("b", "NO_FALLBACK")));

        for (var compile = 0; compile < 2; compile++)
        {
            var config = set.Compile();
            Assert.Contains(config.Diagnostics, d => d.Code == "DSR1007" && d.Message.Contains("10.0.0.1:80 is already an endpoint of a.example", StringComparison.Ordinal));
            Assert.Equal("10.0.0.1:80 stage=prod", string.Join(";", EndpointsOf(config, "a.example").Select(static e => $"{e.Authority} stage={e.Labels["stage"]}")));
        }
    }
}
