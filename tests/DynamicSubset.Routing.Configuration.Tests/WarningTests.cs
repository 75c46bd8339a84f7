namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>Warnings: unsupported Istio fields, unknown fields, and the lints that help users.</summary>
public class WarningTests
{
    private static List<string> Warnings(MeshConfiguration config, string code) =>
        [.. config.Diagnostics.Where(d => d.Code == code).Select(d => d.ToString())];

    [Fact]
    public void UnsupportedIstioFields_AreWarnedWithPath_ThenIgnored()
    {
        var config = Fixtures.Parse("""
            apiVersion: networking.istio.io/v1beta1
            kind: DestinationRule
            metadata:
              name: helloworld
            spec:
              host: helloworld
              trafficPolicy:
                connectionPool:
                  tcp: {tcpKeepalive: {time: 1s}}
                outlierDetection:
                  consecutive5xxErrors: 7
                loadBalancer:
                  dynamicSubset:
                    subsetSelectors:
                      - keys: [stage]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata:
              name: helloworld
            spec:
              hosts: [helloworld]
              http:
                - match: [{gateways: [mesh]}]
                  headerToDynamicSubsetKey:
                    - header: x-stage
                      key: stage
                  route:
                    - destination: {host: helloworld}
            """);

        Assert.False(config.HasErrors);
        Assert.Equal(
            [
                "test.yaml:9:13: spec.trafficPolicy.connectionPool.tcp.tcpKeepalive: supported by Istio but not by DynamicSubset.Routing; ignored",
                "test.yaml:24:16: spec.http[0].match[0].gateways: supported by Istio but not by DynamicSubset.Routing; ignored",
            ],
            Warnings(config, "DSR2001"));
        Assert.Single(config.Services);
    }

    [Fact]
    public void UnknownFieldOutsideDynamicSubset_IsAWarning()
    {
        var config = Fixtures.Parse(Fixtures.Dr.Replace("  host: helloworld", "  host: helloworld\n  hostt: x", StringComparison.Ordinal));

        Assert.False(config.HasErrors);
        Assert.Equal(["test.yaml:7:3: spec.hostt: unknown field; ignored"], Warnings(config, "DSR1006"));
    }

    [Fact]
    public void MappingKeyNoSelectorUses_IsWarnedAtTheKey()
    {
        var config = Fixtures.Parse(Fixtures.Dr + "\n---\n" + Fixtures.Vs.Replace("key: stage", "key: zone", StringComparison.Ordinal));

        Assert.Equal(
            ["test.yaml:24:16: spec.http[0].headerToDynamicSubsetKey[1].key: no subset selector of helloworld.default.svc.cluster.local uses key 'zone'; a request that sets it matches no subset"],
            Warnings(config, "DSR2003"));
        Assert.Equal(
            ["test.yaml:11:13: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys: no headerToDynamicSubsetKey maps stage; no request can match this selector"],
            Warnings(config, "DSR2012"));
    }

    [Fact]
    public void DefaultSubsetThatNoEndpointMatches_IsWarned()
    {
        var config = Fixtures.Parse(Fixtures.Dr.Replace("        subsetSelectors:", "        fallbackPolicy: DEFAULT_SUBSET\n        defaultSubset: {stage: qa}\n        subsetSelectors:", StringComparison.Ordinal)
            + "\n---\n" + Fixtures.Vs + "\n---\n" + Workload("10.0.0.1", "dev"));

        Assert.Equal(
            ["test.yaml:11:9: spec.trafficPolicy.loadBalancer.dynamicSubset.defaultSubset: no endpoint of helloworld.default.svc.cluster.local has stage=qa"],
            Warnings(config, "DSR2004"));
    }

    [Fact]
    public void DefaultSubsetPolicyWithEmptyDefaultSubset_IsWarned()
    {
        var config = Fixtures.Parse(Fixtures.Dr.Replace("  - keys: [stage, version]", "  - keys: [stage, version]\n            fallbackPolicy: DEFAULT_SUBSET", StringComparison.Ordinal) + "\n---\n" + Fixtures.Vs);

        Assert.Equal(
            ["test.yaml:10:9: spec.trafficPolicy.loadBalancer.dynamicSubset.defaultSubset: DEFAULT_SUBSET is used but defaultSubset is empty, so it acts as ANY_ENDPOINT"],
            Warnings(config, "DSR2005"));
    }

    [Fact]
    public void TwoSelectorsWithTheSameKeySet_IsWarnedAtTheSecond()
    {
        var config = Fixtures.Parse(Fixtures.Dr + "\n          - keys: [version, stage]\n            fallbackPolicy: ANY_ENDPOINT\n---\n" + Fixtures.Vs);

        Assert.Equal(
            ["test.yaml:12:13: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[1]: has the same keys as subsetSelectors[0] {stage, version}; only the first one counts"],
            Warnings(config, "DSR2007"));
    }

    [Fact]
    public void DestinationHostWithoutDestinationRule_IsNoted_AndRoutedAsPlainIstio()
    {
        var config = Fixtures.Parse(Fixtures.Vs);

        var note = Assert.Single(config.Diagnostics, d => d.Code == "DSR2008");
        Assert.Equal(DiagnosticSeverity.Info, note.Severity);
        Assert.Equal("test.yaml:15:19: spec.http[0].route[0].destination.host: no DestinationRule has host helloworld.default.svc.cluster.local; routed to every endpoint of it, as plain Istio does", note.ToString());
        var service = Assert.Single(config.Services);
        Assert.Same(DynamicSubsetPolicy.None, service.Policy.DynamicSubset);
        Assert.True(service.HasRoutes);
    }

    [Fact]
    public void ServiceSelectingNoPod_IsWarned_WhenPodsAreGiven()
    {
        var config = MeshConfiguration.Load([Fixtures.Path("pods.yaml"), Fixtures.Reference("dr-step2.yaml"), Fixtures.Reference("vs-step2.yaml")]);
        var service = Fixtures.Parse(File.ReadAllText(Fixtures.Reference("service.yaml")).Replace("app: helloworld\n", "app: nothing\n", StringComparison.Ordinal));
        var both = MeshConfiguration.Parse(
        [
            new("pods.yaml", File.ReadAllText(Fixtures.Path("pods.yaml"))),
            new("svc.yaml", File.ReadAllText(Fixtures.Reference("service.yaml")).Replace("    app: helloworld\n", "    app: nothing\n", StringComparison.Ordinal)),
            new("dr.yaml", File.ReadAllText(Fixtures.Reference("dr-step2.yaml"))),
        ]);

        Assert.Empty(Warnings(config, "DSR2009"));
        Assert.Equal(DiagnosticSeverity.Info, Assert.Single(service.Diagnostics, d => d.Code == "DSR2009").Severity);
        Assert.Equal(["svc.yaml:1:1: spec.selector: Service 'helloworld' selects no pod"], Warnings(both, "DSR2009"));
    }

    [Fact]
    public void RuleWithoutVirtualService_IsWarned()
    {
        var config = Fixtures.Parse(Fixtures.Dr);

        Assert.Equal(
            ["test.yaml:6:9: spec.host: no VirtualService route to helloworld.default.svc.cluster.local has headerToDynamicSubsetKey; every request gets the global fallback policy"],
            Warnings(config, "DSR2011"));
    }

    [Fact]
    public void NamedTargetPortMissingOnAPod_SkipsThePodWithAWarning()
    {
        var config = MeshConfiguration.Parse(
        [
            new("pods.yaml", File.ReadAllText(Fixtures.Path("pods.yaml")).Replace("name: http-echo", "name: other", StringComparison.Ordinal)),
            new("svc.yaml", File.ReadAllText(Fixtures.Path("service-named-port.yaml"))),
            new("dr.yaml", File.ReadAllText(Fixtures.Reference("dr-step2.yaml"))),
        ]);

        Assert.Empty(Assert.Single(config.Services).Endpoints);
        Assert.Equal(6, Warnings(config, "DSR2010").Count);
        Assert.Contains("pod 'helloworld-dev-v1-67b6876778-nf7pz' has no container port named 'http-echo' (Service 'helloworld' targetPort); skipped", config.Diagnostics.Select(d => d.Message));
    }

    private static string Workload(string ip, string stage) => $$"""
        apiVersion: networking.istio.io/v1beta1
        kind: ServiceEntry
        metadata:
          name: helloworld-vm
        spec:
          hosts: [helloworld.default.svc.cluster.local]
          resolution: STATIC
          ports: [{number: 8000, name: http, targetPort: 9000}]
          endpoints:
            - address: {{ip}}
              labels: {stage: {{stage}}, version: v1}
        """;
}

/// <summary>Endpoints from ServiceEntry and WorkloadEntry; Istio short names; lists.</summary>
public class EndpointSourceTests
{
    [Fact]
    public void ServiceEntry_StaticEndpointsAndWorkloadEntries_BecomeEndpoints()
    {
        var config = Fixtures.Parse(Fixtures.Dr + "\n---\n" + Fixtures.Vs + """

            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: helloworld-vms
            spec:
              hosts: [helloworld.default.svc.cluster.local]
              resolution: STATIC
              ports:
                - number: 8000
                  name: http
                  targetPort: 9000
              endpoints:
                - address: 10.1.0.1
                  labels: {stage: dev, version: v1}
                  weight: 3
                - address: 10.1.0.2
                  labels: {stage: dev, version: v1}
                  ports: {http: 9100}
              workloadSelector:
                labels: {app: helloworld-vm}
            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata:
              name: vm-3
            spec:
              address: fd00::3
              labels: {app: helloworld-vm, stage: prod, version: v3}
            """);

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        var endpoints = Assert.Single(config.Services).Endpoints.Select(e => $"{e} w{e.Weight} {e.Name}").ToList();
        Assert.Equal(["10.1.0.1:9000 w3 ", "10.1.0.2:9100 w1 ", "[fd00::3]:9000 w1 vm-3"], endpoints);
    }

    [Fact]
    public void DnsServiceEntry_IsWarnedAndIgnored()
    {
        var config = Fixtures.Parse(Fixtures.Dr + "\n---\n" + """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: external
            spec:
              hosts: [helloworld.default.svc.cluster.local]
              resolution: DNS
              ports: [{number: 80, name: http}]
              endpoints:
                - address: 10.1.0.1
            """);

        Assert.Empty(Assert.Single(config.Services).Endpoints);
        Assert.Contains(config.Diagnostics, d => d.Code == "DSR2001" && d.Message.StartsWith("resolution DNS is not supported", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("helloworld")]
    [InlineData("helloworld.default")]
    [InlineData("helloworld.default.svc")]
    [InlineData("helloworld.default.svc.cluster.local")]
    [InlineData("HelloWorld.default.svc.cluster.local.")]
    public void ShortNames_FindTheService(string host)
    {
        var config = Fixtures.Parse(Fixtures.Dr + "\n---\n" + Fixtures.Vs);

        Assert.Equal("helloworld.default.svc.cluster.local", config.FindService(host)?.Host);
    }

    [Theory]
    [InlineData("helloworld.other")]
    [InlineData("world")]
    [InlineData("helloworld.default.svc.cluster")]
    public void OtherNames_DoNotFindTheService(string host)
    {
        Assert.Null(Fixtures.Parse(Fixtures.Dr).FindService(host));
    }

    [Fact]
    public void ShortHostInAnotherNamespace_ExpandsWithThatNamespace()
    {
        var config = Fixtures.Parse(Fixtures.Dr.Replace("  name: helloworld", "  name: helloworld\n  namespace: shop", StringComparison.Ordinal));

        Assert.Equal("helloworld.shop.svc.cluster.local", Assert.Single(config.Services).Host);
    }

    [Fact]
    public void KindList_HoldingIstioDocuments_IsRead()
    {
        var config = Fixtures.Parse("""
            apiVersion: v1
            kind: List
            items:
              - apiVersion: networking.istio.io/v1beta1
                kind: DestinationRule
                metadata: {name: helloworld}
                spec:
                  host: helloworld
                  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, dynamicSubset: {subsetSelectors: [{keys: [stage]}]}}}
            """);

        Assert.Equal(LoadBalancingPolicy.RoundRobin, Assert.Single(config.Services).Policy.LoadBalancing);
    }
}
