namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>The reference page's YAML, verbatim, in every variant.</summary>
public class ReferencePageTests
{
    private static readonly string[] Workloads = ["deployments-dev.yaml", "deployments-prod.yaml", "service.yaml", "sleep.yaml"];

    [Fact]
    public void Step2_WholeManifest_LoadsWithDeploymentsSkippedAsNotes()
    {
        var config = Fixtures.Load([.. Workloads, "dr-step2.yaml", "vs-step2.yaml"]);

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        var service = Assert.Single(config.Services);
        Assert.Equal("helloworld.default.svc.cluster.local", service.Host);
        Assert.Equal(8000, service.Port);
        Assert.Equal(["stage", "version"], Assert.Single(service.Policy.DynamicSubset.SubsetSelectors).Keys);
        Assert.Null(service.Policy.DynamicSubset.SubsetSelectors[0].FallbackPolicy);
        Assert.Equal(FallbackPolicy.NoFallback, service.Policy.DynamicSubset.FallbackPolicy);
        Assert.Equal(LoadBalancingPolicy.LeastRequest, service.Policy.LoadBalancing);
        Assert.Equal(["x-version -> version (default v3)", "x-stage -> stage (default prod)"], service.Policy.HeaderMappings.Select(m => m.ToString()));
        Assert.Empty(service.Endpoints);

        var skipped = config.Diagnostics.Where(d => d.Code == "DSR3001").Select(d => d.Message).ToList();
        Assert.Equal(6, skipped.Count);
        Assert.Contains("skipped Deployment (apps/v1) 'helloworld-dev-v1': not a kind DynamicSubset.Routing reads", skipped);
        Assert.Contains("skipped Deployment (apps/v1) 'sleep': not a kind DynamicSubset.Routing reads", skipped);
        Assert.Equal(["Service", "DestinationRule", "VirtualService"], config.Documents.Select(d => d.Kind));
    }

    [Theory]
    [InlineData("dr-no-fallback.yaml", FallbackPolicy.NoFallback)]
    [InlineData("dr-any-endpoint.yaml", FallbackPolicy.AnyEndpoint)]
    [InlineData("dr-default-subset.yaml", FallbackPolicy.DefaultSubset)]
    public void Step3_DestinationRuleVariants_ParseTheSelectorPolicy(string file, FallbackPolicy policy)
    {
        var config = Fixtures.Load(file, "vs-step2.yaml");

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        var selector = Assert.Single(Assert.Single(config.Services).Policy.DynamicSubset.SubsetSelectors);
        Assert.Equal(policy, selector.FallbackPolicy);
    }

    [Fact]
    public void Step3_DefaultSubset_IsParsed()
    {
        var config = Fixtures.Load("dr-default-subset.yaml", "vs-step2.yaml");

        Assert.Equal(
            [new("stage", "prod"), new("version", "v3")],
            Assert.Single(config.Services).Policy.DynamicSubset.DefaultSubset);
        Assert.DoesNotContain(config.Diagnostics, d => d.Code == "DSR2006");
    }

    [Fact]
    public void Step4_IpPinning_ParsesAndWarnsThatDefaultSubsetIsUnused()
    {
        var config = Fixtures.Load("dr-step4-ip.yaml", "vs-step4-ip.yaml");

        Assert.False(config.HasErrors);
        var service = Assert.Single(config.Services);
        Assert.Equal([BuiltInKeys.IP], service.Policy.DynamicSubset.SubsetSelectors[0].Keys);
        Assert.Equal("x-ip -> %ip%", Assert.Single(service.Policy.HeaderMappings).ToString());
        var warning = Assert.Single(config.Diagnostics, d => d.Code == "DSR2006");
        Assert.Equal(
            $"{Fixtures.Reference("dr-step4-ip.yaml")}:11:9: spec.trafficPolicy.loadBalancer.dynamicSubset.defaultSubset: no fallbackPolicy is DEFAULT_SUBSET, so defaultSubset is never used",
            warning.ToString());
    }

    [Theory]
    [InlineData("pods.yaml")]
    [InlineData("pods.json")]
    public void PodList_ServiceSelectsPods_ReadyAndNotReady_PendingSkipped(string pods)
    {
        var config = MeshConfiguration.Load([Fixtures.Path(pods), Fixtures.Reference("service.yaml"), Fixtures.Reference("dr-step2.yaml"), Fixtures.Reference("vs-step2.yaml")]);

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        var endpoints = Assert.Single(config.Services).Endpoints;
        Assert.Equal(6, endpoints.Length);
        Assert.All(endpoints, e => Assert.Equal(5678, e.Port));
        Assert.Equal(["192.168.0.6"], endpoints.Where(e => !e.IsHealthy).Select(e => e.AddressText));
        Assert.Contains(endpoints, e => e.Name == "helloworld-dev-v1-67b6876778-nf7pz" && e.AddressText == "192.168.0.5" && e.Labels["stage"] == "dev");
        var pending = Assert.Single(config.Diagnostics, d => d.Code == "DSR3002");
        Assert.Equal("pod 'helloworld-prod-v3-6768bf56f8-pend1' has no IP yet; skipped", pending.Message);
    }

    [Fact]
    public void PodList_NamedTargetPort_IsLookedUpInContainerPorts()
    {
        var config = MeshConfiguration.Load([Fixtures.Path("pods.yaml"), Fixtures.Path("service-named-port.yaml"), Fixtures.Reference("dr-step2.yaml"), Fixtures.Reference("vs-step2.yaml")]);

        Assert.All(Assert.Single(config.Services).Endpoints, e => Assert.Equal(5678, e.Port));
    }

    [Fact]
    public void Walkthrough_FromYaml_RoutesAsThePageSays()
    {
        var stage2 = Resolver("dr-step2.yaml", "vs-step2.yaml");
        var noFallback = Resolver("dr-no-fallback.yaml", "vs-step2.yaml");
        var any = Resolver("dr-any-endpoint.yaml", "vs-step2.yaml");
        var @default = Resolver("dr-default-subset.yaml", "vs-step2.yaml");
        var ip = Resolver("dr-step4-ip.yaml", "vs-step4-ip.yaml");

        Assert.Equal("192.168.0.5", stage2.Resolve(Fixtures.Headers(("x-stage", "dev"), ("x-version", "v1"))).Endpoint?.AddressText);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, noFallback.Resolve(Fixtures.Headers(("x-stage", "prod"), ("x-version", "v1"))).Outcome);
        Assert.Equal("stage=prod, version=v3", any.Resolve(Fixtures.Headers(("x-stage", "prod"))).Subset?.ToString());
        Assert.Equal(ResolutionOutcome.Fallback, any.Resolve(Fixtures.Headers(("x-stage", "prod"), ("x-version", "v1"))).Outcome);
        // 192.168.0.6 is not ready in pods.yaml, so the default subset's only routable member is .104.
        Assert.Equal("192.168.0.104", @default.Resolve(Fixtures.Headers(("x-stage", "prod"), ("x-version", "v1"))).Endpoint?.AddressText);
        Assert.Equal("192.168.0.103", ip.Resolve(Fixtures.Headers(("x-ip", "192.168.0.103"))).Endpoint?.AddressText);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, ip.Resolve(Fixtures.Headers(("x-ip", "192.168.0.6"))).Outcome);
    }

    private static SubsetResolver Resolver(string dr, string vs)
    {
        var config = MeshConfiguration.Load([Fixtures.Path("pods.yaml"), Fixtures.Reference("service.yaml"), Fixtures.Reference(dr), Fixtures.Reference(vs)]);
        config.ThrowIfInvalid();
        return new SubsetResolver(config.FindService("helloworld")!.BuildIndex());
    }
}
