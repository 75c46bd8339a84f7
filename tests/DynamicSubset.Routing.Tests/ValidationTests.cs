using System.Net;

namespace DynamicSubset.Routing.Tests;

/// <summary>Bad input gets a clear exception that names the field; public entry points guard their arguments.</summary>
public class ValidationTests
{
    public static TheoryData<Action, string, string> InvalidInputs => new()
    {
        { () => _ = new SubsetSelector([]), "keys", "a selector needs at least one key" },
        { () => _ = new SubsetSelector("stage", ""), "keys[1]", "key must not be empty" },
        { () => _ = new SubsetSelector("stage", "  "), "keys[1]", "key must not be empty" },
        { () => _ = new SubsetSelector("%pod%"), "keys[0]", "unknown built-in attribute '%pod%' (the built-ins are: %ip%)" },
        { () => _ = new SubsetSelector(["a", "b"], FallbackPolicy.KeysSubset), "fallbackKeysSubset", "KEYS_SUBSET needs a non-empty fallbackKeysSubset" },
        { () => _ = new SubsetSelector(["a", "b"], FallbackPolicy.KeysSubset, []), "fallbackKeysSubset", "KEYS_SUBSET needs a non-empty fallbackKeysSubset" },
        { () => _ = new SubsetSelector(["a", "b"], FallbackPolicy.KeysSubset, ["c"]), "fallbackKeysSubset", "'c' is not one of the selector's keys (a, b)" },
        { () => _ = new SubsetSelector(["a", "b"], FallbackPolicy.KeysSubset, ["b", "a"]), "fallbackKeysSubset", "must be a proper subset of the selector's keys, not all of them" },
        { () => _ = new SubsetSelector(["a", "b"], FallbackPolicy.AnyEndpoint, ["a"]), "fallbackKeysSubset", "can be set only with fallbackPolicy KEYS_SUBSET" },
        { () => _ = new SubsetSelector(["a", "b"], null, ["a"]), "fallbackKeysSubset", "can be set only with fallbackPolicy KEYS_SUBSET" },
        { () => _ = new SubsetSelector(["a"], (FallbackPolicy)42), "fallbackPolicy", "unknown value '42'" },
        { () => _ = new DynamicSubsetPolicy([]), "subsetSelectors", "at least one selector is needed" },
        { () => _ = new DynamicSubsetPolicy([new SubsetSelector("a")], FallbackPolicy.KeysSubset), "fallbackPolicy", "KEYS_SUBSET is a selector policy; the global policy must be NO_FALLBACK, ANY_ENDPOINT or DEFAULT_SUBSET" },
        { () => _ = new DynamicSubsetPolicy([new SubsetSelector("a")], defaultSubset: Topology.Labels(("%node%", "n1"))), "defaultSubset['%node%']", "unknown built-in attribute '%node%' (the built-ins are: %ip%)" },
        { () => _ = new HeaderMapping("", "stage"), "header", "header name must not be empty" },
        { () => _ = new HeaderMapping("x stage", "stage"), "header", "'x stage' is not a valid header name" },
        { () => _ = new HeaderMapping("x-stage", ""), "key", "key must not be empty" },
        { () => _ = new HeaderMapping("x-ip", "%IP%"), "key", "unknown built-in attribute '%IP%' (the built-ins are: %ip%)" },
        { () => _ = new HeaderMapping("x-stage", "stage", ""), "defaultValue", "must not be empty; leave it out to leave the key unset when the header is absent" },
        { () => _ = new RoutingPolicy(new DynamicSubsetPolicy([new SubsetSelector("a")]), [new("x-a", "a"), new("x-b", "b"), new("x-c", "a")]), "headerToDynamicSubsetKey[2].key", "key 'a' is already mapped by headerToDynamicSubsetKey[0] (header 'x-a')" },
        { () => _ = Endpoint.Create("10.0.0.1", 80, weight: -1), "weight", "-1 is not a weight (expected 1 to 4294967295)" },
        { () => _ = Endpoint.Create("10.0.0.1", 80, weight: 0), "weight", "0 is not a weight (expected 1 to 4294967295)" },
        { () => _ = Endpoint.Create("10.0.0.1", 80, weight: 4294967296), "weight", "4294967296 is not a weight (expected 1 to 4294967295)" },
        { () => _ = Endpoint.Create("10.0.0.300", 80), "address", "'10.0.0.300' is not an IP address" },
        { () => _ = Endpoint.Create("10.1", 80), "address", "'10.1' is not an IP address" },
        { () => _ = Endpoint.Create("helloworld", 80), "address", "'helloworld' is not an IP address" },
        { () => _ = Endpoint.Create("10.0.0.1", 0), "port", "0 is not a port (expected 1 to 65535)" },
        { () => _ = Endpoint.Create("10.0.0.1", 65536), "port", "65536 is not a port (expected 1 to 65535)" },
        { () => _ = Endpoint.Create("10.0.0.1", 80, [new("", "x")]), "labels[0]", "label key must not be empty" },
        { () => _ = Endpoint.Create("10.0.0.1", 80, [new("a", null!)]), "labels['a']", "label value must not be null" },
        { () => _ = Endpoint.Create("10.0.0.1", 80, [new("a", "x"), new("a", "y")]), "labels['a']", "label is given twice" },
        { () => _ = LabelSet.Create([new("b", "x"), new("", "y")]), "labels[1]", "label key must not be empty" },
        { () => _ = LabelSet.Create([new("a", "x"), new("a", "y")]), "labels['a']", "label is given twice" },
        { () => _ = SubsetIndex.Build([Endpoint.Create("10.0.0.1", 80), null!], Topology.StageVersion()), "endpoints[1]", "endpoint must not be null" },
        { () => _ = SubsetIndex.Build([Endpoint.Create("10.0.0.1", 80), Endpoint.Create("10.0.0.1", 80)], Topology.StageVersion()), "endpoints", "address 10.0.0.1:80 is given twice" },
    };

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void InvalidInput_ThrowsRoutingValidationException_NamingTheField(Action create, string fieldPath, string reason)
    {
        var error = Assert.Throws<RoutingValidationException>(create);

        Assert.Equal(fieldPath, error.FieldPath);
        Assert.Equal(reason, error.Reason);
        Assert.Equal($"{fieldPath}: {reason}", error.Message);
        Assert.NotNull(error.ParamName);
    }

    [Fact]
    public void ALabelSet_IsKeptAsItIs_ByTheEndpointsMadeFromIt()
    {
        var labels = LabelSet.Create(new Dictionary<string, string> { ["version"] = "v1", ["app"] = "web" });

        var a = Endpoint.Create("10.0.0.1", 80, labels);
        var b = Endpoint.Create("10.0.0.2", 80, labels).WithLabels(labels);

        Assert.Same(labels, a.Labels);
        Assert.Same(labels, b.Labels);
        Assert.Same(labels, LabelSet.Create(labels));
        Assert.Equal(["app", "version"], labels.Keys); // sorted, ordinal
        Assert.Equal("app=web, version=v1", labels.ToString());
        Assert.Same(LabelSet.Empty, LabelSet.Create(null));
        Assert.NotSame(labels, Endpoint.Create("10.0.0.3", 80, new Dictionary<string, string> { ["version"] = "v1", ["app"] = "web" }).Labels); // any other collection is copied
        Assert.Equal(labels, Endpoint.Create("10.0.0.3", 80, new Dictionary<string, string> { ["version"] = "v1", ["app"] = "web" }).Labels);
    }

    [Fact]
    public void Endpoint_IPv6_IsAcceptedAndWrittenInBrackets()
    {
        var endpoint = Endpoint.Create("fd00:0:0::1", 8080);

        Assert.Equal("fd00::1", endpoint.AddressText);
        Assert.Equal("[fd00::1]:8080", endpoint.ToString());
        Assert.True(endpoint.TryGetValue(BuiltInKeys.IP, out var ip));
        Assert.Equal("fd00::1", ip);
    }

    public static TheoryData<Action, string> NullArguments => new()
    {
        { () => _ = new SubsetSelector((IEnumerable<string>)null!), "keys" },
        { () => _ = new DynamicSubsetPolicy(null!), "subsetSelectors" },
        { () => _ = new RoutingPolicy(null!, []), "dynamicSubset" },
        { () => _ = new RoutingPolicy(new DynamicSubsetPolicy([new SubsetSelector("a")]), null!), "headerMappings" },
        { () => _ = new Endpoint((IPAddress)null!, 80), "address" },
        { () => _ = Endpoint.Create(null!, 80), "address" },
        { () => _ = SubsetIndex.Build(null!, Topology.StageVersion()), "endpoints" },
        { () => _ = SubsetIndex.Build([], null!), "policy" },
        { () => _ = SubsetIndex.Build([], Topology.StageVersion()).Apply(null!), "changes" },
        { () => _ = SubsetIndex.Build([], Topology.StageVersion()).Rebuild(null!), "endpoints" },
        { () => _ = SubsetIndex.Build([], Topology.StageVersion()).WithPolicy(null!), "policy" },
        { () => _ = SubsetIndex.Build([], Topology.StageVersion()).Rebuild(null!, Topology.StageVersion()), "endpoints" },
        { () => _ = SubsetIndex.Build([], Topology.StageVersion()).Rebuild([], null!), "policy" },
        { () => Topology.Resolver(Topology.StageVersion()).Replace(null!, Topology.StageVersion()), "endpoints" },
        { () => Topology.Resolver(Topology.StageVersion()).Replace([], null!), "policy" },
        { () => _ = SubsetIndex.Build([], Topology.StageVersion()).FindSubset(null!), "pairs" },
        { () => _ = new SubsetResolver(null!), "index" },
        { () => Topology.Resolver(Topology.StageVersion()).Publish(null!), "index" },
        { () => Topology.Resolver(Topology.StageVersion()).ReplaceEndpoints(null!), "endpoints" },
        { () => Topology.Resolver(Topology.StageVersion()).ApplyChanges(null!), "changes" },
        { () => Topology.Resolver(Topology.StageVersion()).UpdatePolicy(null!), "policy" },
        { () => _ = new DictionaryHeaderSource(null!), "headers" },
        { () => _ = new HttpRequestHeadersSource(null!), "headers" },
        { () => _ = EndpointChange.Upsert(null!), "endpoint" },
        { () => _ = EndpointChange.SetLabels(default, null!), "labels" },
        { () => _ = BuiltInKeys.IsBuiltInSyntax(null!), "key" },
        { () => _ = new RouteRequest(null!, "/"), "method" },
        { () => _ = new RouteRequest("GET", null!), "path" },
        { () => _ = new RouteRequest("GET", "/", scheme: null!), "scheme" },
        { () => _ = new RouteDestination(null!, null, Routes.Routing.All), "host" },
        { () => _ = new RouteDestination("h", null, null!), "service" },
        { () => _ = new HttpRouteRule(null!), "destinations" },
        { () => _ = StringMatch.Exact(null!), "value" },
        { () => _ = StringMatch.Prefix(null!), "value" },
        { () => _ = StringMatch.Regex(null!), "pattern" },
        { () => _ = ConsistentHashPolicy.ForHeader(null!), "name" },
        { () => _ = ConsistentHashPolicy.ForCookie(null!), "name" },
        { () => _ = ConsistentHashPolicy.ForQueryParameter(null!), "name" },
        { () => _ = Explanation.Of(null!, new RouteRequest("GET", "/"), new DictionaryHeaderSource(new Dictionary<string, string>())), "service" },
        { () => _ = Locality.Parse(null!), "text" },
        { () => _ = Locality.Of(null!), "labels" },
        { () => _ = new Locality("r").IsWithin(null!), "pattern" },
        { () => _ = new Locality(null!), "region" },
        { () => _ = new Locality("r", null!), "zone" },
        { () => _ = new Locality("r", "z", null!), "subzone" },
        { () => _ = Topology.StageVersion().IsEquivalentTo(null!), "other" },
        { () => _ = new RoutingPolicy(DynamicSubsetPolicy.None, []) { Locality = null! }, "value" },
    };

    [Fact]
    public void RouteRequest_PortOutOfRange_ThrowsWithItsName()
    {
        Assert.Equal("port", Assert.Throws<ArgumentOutOfRangeException>(() => new RouteRequest("GET", "/", port: -1)).ParamName);
        Assert.Equal("port", Assert.Throws<ArgumentOutOfRangeException>(() => new RouteRequest("GET", "/", port: 65536)).ParamName);
    }

    [Theory]
    [MemberData(nameof(NullArguments))]
    public void PublicEntryPoint_NullArgument_ThrowsArgumentNullException_WithParameterName(Action call, string parameter)
    {
        var error = Assert.Throws<ArgumentNullException>(call);

        Assert.Equal(parameter, error.ParamName);
    }
}

public class MeshNamesTests
{
    [Theory]
    [InlineData(FallbackPolicy.NoFallback, "NO_FALLBACK")]
    [InlineData(FallbackPolicy.AnyEndpoint, "ANY_ENDPOINT")]
    [InlineData(FallbackPolicy.DefaultSubset, "DEFAULT_SUBSET")]
    [InlineData(FallbackPolicy.KeysSubset, "KEYS_SUBSET")]
    public void FallbackPolicy_RoundTripsThroughMeshName(FallbackPolicy policy, string name)
    {
        Assert.Equal(name, policy.ToMeshName());
        Assert.True(MeshNames.TryParseFallbackPolicy(name, out var parsed));
        Assert.Equal(policy, parsed);
    }

    [Theory]
    [InlineData(LoadBalancingPolicy.LeastRequest, "LEAST_REQUEST")]
    [InlineData(LoadBalancingPolicy.RoundRobin, "ROUND_ROBIN")]
    [InlineData(LoadBalancingPolicy.Random, "RANDOM")]
    public void LoadBalancingPolicy_RoundTripsThroughMeshName(LoadBalancingPolicy policy, string name)
    {
        Assert.Equal(name, policy.ToMeshName());
        Assert.True(MeshNames.TryParseLoadBalancingPolicy(name, out var parsed));
        Assert.Equal(policy, parsed);
    }

    [Theory]
    [InlineData("ANY")]
    [InlineData("any_endpoint")]
    [InlineData("")]
    [InlineData(null)]
    public void UnknownNames_AreNotParsed(string? name)
    {
        Assert.False(MeshNames.TryParseFallbackPolicy(name, out _));
        Assert.False(MeshNames.TryParseLoadBalancingPolicy(name, out _));
    }

    [Fact]
    public void Scope_HasMeshName()
    {
        Assert.Equal(("global", "selector"), (FallbackScope.Global.ToMeshName(), FallbackScope.Selector.ToMeshName()));
    }
}
