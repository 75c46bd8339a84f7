using System.Net.Http.Headers;

namespace DynamicSubset.Routing.Tests;

/// <summary>One test (or a few) per rule of SPEC.md, named after the rule.</summary>
public class SpecRuleTests
{
    private static readonly HeaderMapping[] Mappings =
    [
        new("x-stage", "stage"),
        new("x-version", "version"),
        new("x-zone", "zone"),
    ];

    private static RoutingPolicy Policy(
        SubsetSelector[] selectors,
        FallbackPolicy global = FallbackPolicy.NoFallback,
        (string, string)[]? defaultSubset = null,
        HeaderMapping[]? mappings = null) =>
        new(new DynamicSubsetPolicy(selectors, global, defaultSubset is null ? null : Topology.Labels(defaultSubset)), mappings ?? Mappings);

    private static Endpoint Ep(string ip, params (string, string)[] labels) => Endpoint.Create(ip, 80, Topology.Labels(labels));

    private static Endpoint Sick(string ip, params (string, string)[] labels) => Endpoint.Create(ip, 80, Topology.Labels(labels), isHealthy: false);

    [Fact]
    public void Rule01_EndpointWithEveryKey_JoinsSubset_OtherwiseNone_ExtraLabelsIgnored()
    {
        var index = SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"), ("team", "a")), Ep("10.0.0.2", ("stage", "dev"))],
            Policy([new SubsetSelector("stage", "version")]));

        var subset = Assert.Single(index.Subsets);
        Assert.Equal("stage=dev, version=v1", subset.ToString());
        Assert.Equal(["10.0.0.1"], subset.Endpoints.Select(e => e.AddressText));
        Assert.Equal(["10.0.0.2"], index.UnassignedEndpoints.Select(e => e.AddressText));
    }

    [Fact]
    public void Rule02_EndpointBelongsToOneSubsetPerSelector()
    {
        var index = SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"))],
            Policy([new SubsetSelector("stage"), new SubsetSelector("version"), new SubsetSelector("stage", "version")]));

        Assert.Equal(["stage=dev", "version=v1", "stage=dev, version=v1"], index.Subsets.Select(s => s.ToString()));
        Assert.All(index.Subsets, s => Assert.Equal("10.0.0.1", Assert.Single(s.Endpoints).AddressText));
    }

    [Fact]
    public void Rule03_SameKeySetTwice_FirstSelectorCounts()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"))],
            Policy([new SubsetSelector(["stage"], FallbackPolicy.NoFallback), new SubsetSelector(["stage"], FallbackPolicy.AnyEndpoint)])));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "prod")));

        Assert.Single(resolver.Current.Subsets);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, result.Outcome);
        Assert.Equal(FallbackScope.Selector, result.FallbackScope);
    }

    [Fact]
    public void Rule03_SubsetIsNamedByPairs_KeyOrderDoesNotMatter()
    {
        var index = SubsetIndex.Build([Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"))], Policy([new SubsetSelector("version", "stage", "version")]));

        Assert.Equal(["stage", "version"], index.Policy.DynamicSubset.SubsetSelectors[0].Keys);
        Assert.NotNull(index.FindSubset(Topology.Labels(("version", "v1"), ("stage", "dev"))));
    }

    [Fact]
    public void Rule04_ValuesAndKeysAreCaseSensitive()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "Dev")), Ep("10.0.0.2", ("Stage", "dev"))],
            Policy([new SubsetSelector("stage")])));

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, resolver.Resolve(Topology.Headers(("x-stage", "dev"))).Outcome);
        Assert.Equal("10.0.0.1", resolver.Resolve(Topology.Headers(("x-stage", "Dev"))).Ip());
        Assert.Equal(["10.0.0.2"], resolver.Current.UnassignedEndpoints.Select(e => e.AddressText));
    }

    [Fact]
    public void Rule05_SubsetsFollowEndpointChanges()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build([Ep("10.0.0.1", ("stage", "dev"))], Policy([new SubsetSelector("stage")])));
        var canary = Ep("10.0.0.2", ("stage", "canary"));

        resolver.ApplyChanges([EndpointChange.Upsert(canary)]);
        Assert.Equal(["stage=canary", "stage=dev"], resolver.Current.Subsets.Select(s => s.ToString()));
        Assert.Equal("10.0.0.2", resolver.Resolve(Topology.Headers(("x-stage", "canary"))).Ip());

        resolver.ApplyChanges([EndpointChange.SetLabels(canary.AddressKey, Topology.Labels(("stage", "dev")))]);
        Assert.Equal(["stage=dev"], resolver.Current.Subsets.Select(s => s.ToString()));
        Assert.Equal(2, resolver.Current.Subsets[0].Endpoints.Length);

        resolver.ApplyChanges([EndpointChange.Remove(canary.AddressKey), EndpointChange.Remove(Ep("10.0.0.1").AddressKey)]);
        Assert.Empty(resolver.Current.Subsets);
    }

    [Fact]
    public void Rule06_HeaderNamesMatchCaseInsensitively()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build([Ep("10.0.0.1", ("stage", "dev"))], Policy([new SubsetSelector("stage")],
            mappings: [new HeaderMapping("X-Stage", "stage")])));
        var ordinal = new Dictionary<string, string>(StringComparer.Ordinal) { ["X-STAGE"] = "dev" };

        Assert.Equal("10.0.0.1", resolver.Resolve(ordinal).Ip());
        Assert.Equal("10.0.0.1", resolver.Resolve(Topology.Headers(("x-stage", "dev"))).Ip());
    }

    [Fact]
    public void Rule06_SeveralValuesOfOneHeader_AreJoinedWithComma()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build([Ep("10.0.0.1", ("stage", "a,b"))], Policy([new SubsetSelector("stage")])));
        using var request = new HttpRequestMessage();
        request.Headers.TryAddWithoutValidation("x-stage", ["a", "b"]);

        var result = resolver.Resolve(request.Headers);

        Assert.Equal("10.0.0.1", result.Ip());
    }

    [Fact]
    public void Rule06_AbsentHeader_UsesDefault_OrLeavesKeyOut()
    {
        var endpoints = new[] { Ep("10.0.0.1", ("stage", "prod"), ("version", "v3")), Ep("10.0.0.2", ("stage", "prod")) };
        var selectors = new[] { new SubsetSelector("stage", "version"), new SubsetSelector("stage") };
        var withDefault = new SubsetResolver(SubsetIndex.Build(endpoints, Policy(selectors, mappings: [new("x-stage", "stage"), new("x-version", "version", "v3")])));
        var noDefault = new SubsetResolver(SubsetIndex.Build(endpoints, Policy(selectors, mappings: [new("x-stage", "stage"), new("x-version", "version")])));

        Assert.Equal("10.0.0.1", withDefault.Resolve(Topology.Headers(("x-stage", "prod"))).Ip());
        Assert.Equal("stage=prod", noDefault.Resolve(Topology.Headers(("x-stage", "prod"))).Subset!.ToString());
    }

    [Fact]
    public void Rule06_PresentButEmptyHeader_LeavesKeyOut_AndDefaultIsNotUsed()
    {
        var endpoints = new[] { Ep("10.0.0.1", ("stage", "prod"), ("version", "v3")), Ep("10.0.0.2", ("stage", "prod")) };
        var resolver = new SubsetResolver(SubsetIndex.Build(
            endpoints,
            Policy([new SubsetSelector("stage", "version"), new SubsetSelector("stage")], mappings: [new("x-stage", "stage"), new("x-version", "version", "v3")])));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "prod"), ("x-version", "")));

        Assert.Equal("stage=prod", result.Subset!.ToString());
        var explained = resolver.Current.ExplainCriteria(new DictionaryHeaderSource(Topology.Headers(("x-stage", "prod"), ("x-version", ""))));
        Assert.Equal(CriterionSource.EmptyHeader, explained[1].Source);
    }

    [Fact]
    public void Rule06_ValueLongerThan8KiB_CountsAsAbsent()
    {
        var endpoints = new[] { Ep("10.0.0.1", ("stage", "prod")) };
        var resolver = new SubsetResolver(SubsetIndex.Build(endpoints, Policy([new SubsetSelector("stage")], mappings: [new("x-stage", "stage", "prod")])));
        var atLimit = new string('a', HeaderMapping.MaxValueLength);

        var tooLong = resolver.Resolve(Topology.Headers(("x-stage", atLimit + "a")));
        var justFits = resolver.Resolve(Topology.Headers(("x-stage", atLimit)));

        Assert.Equal(ResolutionOutcome.Matched, tooLong.Outcome);
        Assert.Equal("stage=prod", tooLong.Subset!.ToString());
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, justFits.Outcome);
    }

    [Fact]
    public void Rule06_TwoMappingsToOneKey_IsAConfigurationError()
    {
        var error = Assert.Throws<RoutingValidationException>(() =>
            Policy([new SubsetSelector("stage")], mappings: [new("x-stage", "stage"), new("x-env", "stage")]));

        Assert.Equal("headerToDynamicSubsetKey[1].key", error.FieldPath);
        Assert.Equal("headerMappings", error.ParamName);
    }

    [Fact]
    public void Rule07_NoCriteria_AppliesGlobalPolicy_NotTheSelectors()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"))],
            Policy([new SubsetSelector(["stage"], FallbackPolicy.NoFallback)], FallbackPolicy.AnyEndpoint)));

        var result = resolver.Resolve(Topology.Headers());

        Assert.Equal(ResolutionOutcome.Fallback, result.Outcome);
        Assert.Equal((FallbackPolicy.AnyEndpoint, FallbackScope.Global), (result.FallbackPolicy!.Value, result.FallbackScope!.Value));
    }

    [Fact]
    public void Rule08_ExtraOrMissingKeys_NeverMatch()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"), ("zone", "z"))],
            Policy([new SubsetSelector("stage", "version")])));

        var extra = resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v1"), ("x-zone", "z")));
        var missing = resolver.Resolve(Topology.Headers(("x-stage", "dev")));
        var exact = resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v1")));

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, extra.Outcome);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, missing.Outcome);
        Assert.Equal(ResolutionOutcome.Matched, exact.Outcome);
    }

    [Fact]
    public void Rule09_SubsetWithNoHealthyEndpoint_GoesToFallback()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Sick("10.0.0.1", ("stage", "dev")), Ep("10.0.0.2", ("stage", "prod"))],
            Policy([new SubsetSelector(["stage"], FallbackPolicy.AnyEndpoint)])));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "dev")));

        Assert.Equal(ResolutionOutcome.Fallback, result.Outcome);
        Assert.Equal("10.0.0.2", result.Ip());
        Assert.False(resolver.Current.Subsets[0].IsRoutable);
        Assert.Single(resolver.Current.Subsets[0].Endpoints);
    }

    [Fact]
    public void Rule10_PicksOnlyRoutableEndpointsOfTheMatchedSubset()
    {
        var resolver = new SubsetResolver(
            SubsetIndex.Build(
                [Ep("10.0.0.1", ("stage", "dev")), Sick("10.0.0.2", ("stage", "dev")), Ep("10.0.0.3", ("stage", "dev")), Ep("10.0.0.4", ("stage", "prod"))],
                Policy([new SubsetSelector("stage")])),
            new Random(3));

        Assert.Equal(["10.0.0.1", "10.0.0.3"], resolver.Ips(Topology.Headers(("x-stage", "dev"))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Rule11_SelectorPolicyAppliesOnlyToItsExactKeySet()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"))],
            Policy([new SubsetSelector(["stage", "version"], FallbackPolicy.AnyEndpoint), new SubsetSelector("zone")], FallbackPolicy.NoFallback)));

        var sameKeys = resolver.Resolve(Topology.Headers(("x-stage", "prod"), ("x-version", "v9")));
        var otherKeys = resolver.Resolve(Topology.Headers(("x-stage", "prod")));
        var selectorWithoutPolicy = resolver.Resolve(Topology.Headers(("x-zone", "nowhere")));

        Assert.Equal((ResolutionOutcome.Fallback, FallbackScope.Selector), (sameKeys.Outcome, sameKeys.FallbackScope!.Value));
        Assert.Equal((ResolutionOutcome.NoHealthyUpstream, FallbackScope.Global), (otherKeys.Outcome, otherKeys.FallbackScope!.Value));
        Assert.Equal((ResolutionOutcome.NoHealthyUpstream, FallbackScope.Global), (selectorWithoutPolicy.Outcome, selectorWithoutPolicy.FallbackScope!.Value));
    }

    [Fact]
    public void Rule11_DepartureFromEnvoy_ShorterSelectorDeclaredLater_KeepsItsPolicy()
    {
        // Envoy drops {stage}'s policy when {stage, version} is declared first; here it belongs to its key set.
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"))],
            Policy([new SubsetSelector("stage", "version"), new SubsetSelector(["stage"], FallbackPolicy.AnyEndpoint)], FallbackPolicy.NoFallback)));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "prod")));

        Assert.Equal(ResolutionOutcome.Fallback, result.Outcome);
        Assert.Equal((FallbackPolicy.AnyEndpoint, FallbackScope.Selector), (result.FallbackPolicy!.Value, result.FallbackScope!.Value));
    }

    [Fact]
    public void Rule12_NoFallback_IsNoHealthyUpstream()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build([Ep("10.0.0.1", ("stage", "dev"))], Policy([new SubsetSelector("stage")])));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "prod")));

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, result.Outcome);
        Assert.False(result.HasEndpoint);
        Assert.StartsWith("no healthy upstream", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Rule13_AnyEndpoint_IncludesEndpointsInNoSubset_ButNotUnhealthyOnes()
    {
        var resolver = new SubsetResolver(
            SubsetIndex.Build([Ep("10.0.0.1"), Sick("10.0.0.2"), Ep("10.0.0.3", ("stage", "dev"))], Policy([new SubsetSelector("stage")], FallbackPolicy.AnyEndpoint)),
            new Random(5));

        Assert.Equal(["10.0.0.1", "10.0.0.3"], resolver.Ips(Topology.Headers(("x-stage", "prod"))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Rule14_DefaultSubset_IsEveryRoutableEndpointWithAllPairs_EvenOutsideAnySelector()
    {
        var resolver = new SubsetResolver(
            SubsetIndex.Build(
                [Ep("10.0.0.1", ("track", "stable"), ("team", "a")), Ep("10.0.0.2", ("track", "stable")), Sick("10.0.0.3", ("track", "stable")), Ep("10.0.0.4", ("stage", "dev"))],
                Policy([new SubsetSelector("stage")], FallbackPolicy.DefaultSubset, [("track", "stable")])),
            new Random(7));

        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Ips(Topology.Headers(("x-stage", "prod"))).Order(StringComparer.Ordinal));
        Assert.Equal(3, resolver.Current.DefaultSubset!.Endpoints.Length);
    }

    [Fact]
    public void Rule14_DefaultSubsetMayUseBuiltInIp()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev")), Ep("10.0.0.2", ("stage", "dev"))],
            Policy([new SubsetSelector("stage")], FallbackPolicy.DefaultSubset, [(BuiltInKeys.IP, "10.0.0.2")])));

        Assert.Equal(["10.0.0.2"], resolver.Ips(Topology.Headers(("x-stage", "prod"))));
    }

    [Fact]
    public void Rule14_EmptyDefaultSubset_ActsAsAnyEndpoint()
    {
        var resolver = new SubsetResolver(
            SubsetIndex.Build([Ep("10.0.0.1"), Ep("10.0.0.2", ("stage", "dev"))], Policy([new SubsetSelector(["stage"], FallbackPolicy.DefaultSubset)])),
            new Random(9));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "prod")));

        Assert.Equal(FallbackPolicy.DefaultSubset, result.FallbackPolicy);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Ips(Topology.Headers(("x-stage", "prod"))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Rule14_DefaultSubsetWithNoRoutableEndpoint_IsNoHealthyUpstream()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Sick("10.0.0.1", ("track", "stable")), Ep("10.0.0.2", ("stage", "dev"))],
            Policy([new SubsetSelector(["stage"], FallbackPolicy.DefaultSubset)], FallbackPolicy.AnyEndpoint, [("track", "stable")])));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "prod")));

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, result.Outcome);
        Assert.Equal((FallbackPolicy.DefaultSubset, FallbackScope.Selector), (result.FallbackPolicy!.Value, result.FallbackScope!.Value));
    }

    [Fact]
    public void Rule15_FallbackAnswerIsFinal_EmptyAnyEndpointDoesNotTryGlobal()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Sick("10.0.0.1", ("stage", "dev"))],
            Policy([new SubsetSelector(["stage"], FallbackPolicy.AnyEndpoint)], FallbackPolicy.DefaultSubset, [("stage", "dev")])));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "dev")));

        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, result.Outcome);
        Assert.Equal(FallbackPolicy.AnyEndpoint, result.FallbackPolicy);
    }

    [Fact]
    public void Rule15_KeysSubset_RetriesWithFewerKeys_AndChains()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"), ("zone", "a")), Ep("10.0.0.2", ("stage", "prod"))],
            Policy(
                [
                    new SubsetSelector(["stage", "version", "zone"], FallbackPolicy.KeysSubset, ["stage", "version"]),
                    new SubsetSelector(["stage", "version"], FallbackPolicy.KeysSubset, ["stage"]),
                    new SubsetSelector(["stage"], FallbackPolicy.AnyEndpoint),
                ])));

        var oneStep = resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v1"), ("x-zone", "b")));
        var twoSteps = resolver.Resolve(Topology.Headers(("x-stage", "prod"), ("x-version", "v1"), ("x-zone", "b")));
        var endsInSelectorPolicy = resolver.Resolve(Topology.Headers(("x-stage", "qa"), ("x-version", "v1"), ("x-zone", "b")));

        Assert.Equal((ResolutionOutcome.Fallback, "10.0.0.1", "stage=dev, version=v1"), (oneStep.Outcome, oneStep.Ip(), oneStep.Subset!.ToString()));
        Assert.Equal((FallbackPolicy.KeysSubset, FallbackScope.Selector), (oneStep.FallbackPolicy!.Value, oneStep.FallbackScope!.Value));
        Assert.Equal(("10.0.0.2", "stage=prod"), (twoSteps.Ip(), twoSteps.Subset!.ToString()));
        Assert.Equal((FallbackPolicy.AnyEndpoint, FallbackScope.Selector), (endsInSelectorPolicy.FallbackPolicy!.Value, endsInSelectorPolicy.FallbackScope!.Value));
        Assert.Null(endsInSelectorPolicy.Subset);
    }

    [Fact]
    public void Rule15_KeysSubset_RetryWithNoSelectorForTheCutKeys_UsesGlobal()
    {
        var resolver = new SubsetResolver(SubsetIndex.Build(
            [Ep("10.0.0.1", ("stage", "dev"), ("version", "v1"))],
            Policy([new SubsetSelector(["stage", "version"], FallbackPolicy.KeysSubset, ["stage"])], FallbackPolicy.AnyEndpoint)));

        var result = resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v2")));

        Assert.Equal((FallbackPolicy.AnyEndpoint, FallbackScope.Global), (result.FallbackPolicy!.Value, result.FallbackScope!.Value));
    }

    [Fact]
    public void Rule16_DefaultLoadBalancer_IsLeastRequest()
    {
        Assert.Equal(LoadBalancingPolicy.LeastRequest, Topology.StageVersion().LoadBalancing);
    }

    [Fact]
    public void Rule16_RoundRobin_RotatesPerSubset()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(loadBalancing: LoadBalancingPolicy.RoundRobin));
        var prodV3 = Topology.Headers(("x-stage", "prod"), ("x-version", "v3"));
        var devV1 = Topology.Headers(("x-stage", "dev"), ("x-version", "v1"));

        var sequence = new[] { resolver.Resolve(prodV3).Ip(), resolver.Resolve(devV1).Ip(), resolver.Resolve(prodV3).Ip(), resolver.Resolve(prodV3).Ip() };

        Assert.Equal(["192.168.0.6", "192.168.0.5", "192.168.0.104", "192.168.0.6"], sequence);
    }

    [Theory]
    [InlineData(LoadBalancingPolicy.RoundRobin)]
    [InlineData(LoadBalancingPolicy.Random)]
    [InlineData(LoadBalancingPolicy.LeastRequest)]
    public void Rule16_WeightsAreHonoured(LoadBalancingPolicy policy)
    {
        var resolver = Topology.Resolver(
            Topology.StageVersion(loadBalancing: policy),
            [Topology.Pod("a", "10.0.0.1", "prod", "v3", weight: 3), Topology.Pod("b", "10.0.0.2", "prod", "v3", weight: 1)],
            seed: 11);

        var counts = Enumerable.Range(0, 4000).Select(_ => resolver.Resolve(Topology.Headers()).Ip()).CountBy(ip => ip).ToDictionary();

        Assert.InRange(counts["10.0.0.1"] / (double)counts["10.0.0.2"], 2.6, 3.4);
    }

    [Theory]
    [InlineData(LoadBalancingPolicy.RoundRobin)]
    [InlineData(LoadBalancingPolicy.Random)]
    [InlineData(LoadBalancingPolicy.LeastRequest)]
    public void Rule16_WeightsUpToIstiosUInt32Maximum_NeverOverflow(LoadBalancingPolicy policy)
    {
        // Regression: weights 2147483647 and 1 overflowed the 32-bit weight table and aborted the CLI and a serving
        // gateway. Istio's weights are uint32, so 4294967295 is valid; three of them add up past 2^33.
        var resolver = Topology.Resolver(
            Topology.StageVersion(loadBalancing: policy),
            [
                Topology.Pod("a", "10.0.0.1", "prod", "v3", weight: Endpoint.MaxWeight),
                Topology.Pod("b", "10.0.0.2", "prod", "v3", weight: Endpoint.MaxWeight),
                Topology.Pod("c", "10.0.0.3", "prod", "v3", weight: int.MaxValue),
                Topology.Pod("d", "10.0.0.4", "prod", "v3", weight: 1),
            ],
            seed: 3);

        var counts = Enumerable.Range(0, 4000).Select(_ => resolver.Resolve(Topology.Headers()).Ip()).CountBy(ip => ip).ToDictionary();

        // a and b hold 4/5 of the weight, c 1/5, and d one part in 10^10.
        Assert.InRange(counts["10.0.0.1"] + counts["10.0.0.2"], 2900, 3500);
        Assert.InRange(counts.GetValueOrDefault("10.0.0.3"), 500, 1100);
        Assert.InRange(counts.GetValueOrDefault("10.0.0.4"), 0, 5);
    }

    [Fact]
    public void Rule16_LeastRequest_WithWeights_ComparesRequestsInFlightPerUnitOfWeight()
    {
        // a: weight 3 with 2 in flight (0.67 per unit); b: weight 1 with 1 in flight (1 per unit). Raw counts favour b,
        // per-unit load favours a, so b is picked only when both weighted draws land on it: 1/16 of the time.
        var resolver = Topology.Resolver(
            Topology.StageVersion(),
            [Topology.Pod("a", "10.0.0.1", "prod", "v3", weight: 3), Topology.Pod("b", "10.0.0.2", "prod", "v3", weight: 1)],
            seed: 5);
        InFlightRequest Track(string ip) =>
            Enumerable.Range(0, 1000).Select(_ => resolver.Resolve(Topology.Headers())).First(r => r.Ip() == ip).TrackRequest();
        var inFlight = new[] { Track("10.0.0.1"), Track("10.0.0.1"), Track("10.0.0.2") };

        var onB = Enumerable.Range(0, 4000).Count(_ => resolver.Resolve(Topology.Headers()).Ip() == "10.0.0.2");

        Assert.InRange(onB, 150, 400); // 1/16 is 250; comparing raw counts would give 7/16, about 1,750
        Array.ForEach(inFlight, r => r.Dispose());
    }

    [Fact]
    public void Rule16_LeastRequest_PrefersTheEndpointWithFewerRequestsInFlight()
    {
        var resolver = Topology.Resolver(
            Topology.StageVersion(),
            [Topology.Pod("a", "10.0.0.1", "prod", "v3"), Topology.Pod("b", "10.0.0.2", "prod", "v3")]);
        var busy = Enumerable.Range(0, 5).Select(_ => resolver.Resolve(Topology.Headers())).First(r => r.Ip() == "10.0.0.1");
        var inFlight = Enumerable.Range(0, 3).Select(_ => busy.TrackRequest()).ToList();

        Assert.Equal(["10.0.0.2"], resolver.Ips(Topology.Headers(), 50));

        inFlight.ForEach(r => r.Dispose());
        Assert.Equal(["10.0.0.1", "10.0.0.2"], resolver.Ips(Topology.Headers(), 100).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(LoadBalancingPolicy.LeastRequest)]
    [InlineData(LoadBalancingPolicy.RoundRobin)]
    [InlineData(LoadBalancingPolicy.Random)]
    public void Rule16_LargeSet_EveryPickIsAMember(LoadBalancingPolicy policy)
    {
        // Regression: a one-draw pair of candidates overflowed int for sets over 46,340 endpoints.
        var endpoints = Enumerable.Range(0, 50_000).Select(i => Endpoint.Create($"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}", 80)).ToArray();
        var resolver = new SubsetResolver(SubsetIndex.Build(
            endpoints, new RoutingPolicy(new DynamicSubsetPolicy([new SubsetSelector("stage")], FallbackPolicy.AnyEndpoint), [], policy)));

        var picks = Enumerable.Range(0, 2000).Select(_ => resolver.Resolve(Topology.Headers()).Endpoint).ToHashSet();

        Assert.DoesNotContain(null, picks);
        Assert.True(picks.Count > 1500, $"only {picks.Count} distinct picks of 2000");
    }

    [Fact]
    public void Rule17_InvalidUpdate_IsRejectedWhole_AndLastGoodSnapshotKeepsServing()
    {
        var resolver = Topology.Resolver(Topology.StageVersion());
        var before = resolver.Current;

        var error = Assert.Throws<RoutingValidationException>(() => resolver.ReplaceEndpoints([.. Topology.Helloworld, Topology.Helloworld[0]]));

        Assert.Contains("192.168.0.5:5678 is given twice", error.Message, StringComparison.Ordinal);
        Assert.Same(before, resolver.Current);
        Assert.Equal("192.168.0.5", resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v1"))).Ip());
    }

    [Fact]
    public void Rule17_UpdatesPublishANewSnapshot_AndSignalAfterSwap()
    {
        var resolver = Topology.Resolver(Topology.StageVersion());
        SubsetIndex? seen = null;
        resolver.Changed += (_, e) => seen = ((SubsetResolver)_!).Current == e.Current ? e.Current : null;

        var next = resolver.ApplyChanges([EndpointChange.SetHealth(Topology.Helloworld[0].AddressKey, false)]);

        Assert.Same(next, seen);
        Assert.Equal(2, next.Generation);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v1"))).Outcome);
    }

    [Fact]
    public void Rule17_ReplacingEndpointsAndPolicyAtOnce_IsOneSnapshot_AndKeepsLiveState()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(loadBalancing: LoadBalancingPolicy.RoundRobin));
        var prodV3 = Topology.Headers(("x-stage", "prod"), ("x-version", "v3"));
        var first = resolver.Resolve(prodV3).Ip();
        var changes = 0;
        resolver.Changed += (_, _) => changes++;

        var next = resolver.Replace([.. Topology.Helloworld.Skip(1)], Topology.StageVersion(FallbackPolicy.AnyEndpoint, loadBalancing: LoadBalancingPolicy.RoundRobin));

        Assert.Equal(1, changes);
        Assert.Equal(5, next.Endpoints.Length);
        Assert.Equal(FallbackPolicy.AnyEndpoint, next.Policy.DynamicSubset.SubsetSelectors[0].FallbackPolicy);
        Assert.NotEqual(first, resolver.Resolve(prodV3).Ip()); // the rotation carried on rather than restarting
    }

    [Fact]
    public void Rule18_EveryOutcomeSaysWhatHappened()
    {
        var resolver = Topology.Resolver(Topology.StageVersion(FallbackPolicy.AnyEndpoint));

        var matched = resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v1")));
        var fallback = resolver.Resolve(Topology.Headers(("x-stage", "dev"), ("x-version", "v9")));

        Assert.Equal(
            [new("stage", "dev"), new("version", "v1")],
            matched.Subset!.Pairs);
        Assert.Null(matched.FallbackPolicy);
        Assert.Equal("192.168.0.5:5678 (subset stage=dev, version=v1)", matched.ToString());
        Assert.Equal((FallbackPolicy.AnyEndpoint, FallbackScope.Selector), (fallback.FallbackPolicy!.Value, fallback.FallbackScope!.Value));
    }
}
