namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>Every error and warning, with its exact file:line:column and field path.</summary>
public class DiagnosticTests
{
    private const string Header = Fixtures.DrHeader;

    private static ConfigurationDiagnostic SingleError(string yaml, string name = "helloworld.yaml")
    {
        var config = Fixtures.Parse(yaml, name);
        Assert.True(config.HasErrors);
        Assert.Empty(config.Services);
        return Assert.Single(config.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void UnknownFallbackPolicy_IsAnErrorAtTheValue_WithTheExpectedValues()
    {
        var error = SingleError(Header + """
                    subsetSelectors:
                      - keys: [stage, version]
                        fallbackPolicy: ANY
            """);

        Assert.Equal(
            "helloworld.yaml:12:29: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackPolicy: unknown value 'ANY' (expected NO_FALLBACK, ANY_ENDPOINT, DEFAULT_SUBSET, KEYS_SUBSET)",
            error.ToString());
        Assert.Equal("DSR1004", error.Code);
    }

    [Fact]
    public void GlobalKeysSubset_IsAnUnknownValueThere()
    {
        var error = SingleError(Header + """
                    fallbackPolicy: KEYS_SUBSET
                    subsetSelectors:
                      - keys: [stage]
            """);

        Assert.Equal(
            "helloworld.yaml:10:25: spec.trafficPolicy.loadBalancer.dynamicSubset.fallbackPolicy: unknown value 'KEYS_SUBSET' (expected NO_FALLBACK, ANY_ENDPOINT, DEFAULT_SUBSET)",
            error.ToString());
    }

    [Fact]
    public void UnknownLoadBalancer_IsAnError()
    {
        var error = SingleError("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: helloworld
            spec:
              host: helloworld
              trafficPolicy:
                loadBalancer:
                  simple: FASTEST
                  dynamicSubset:
                    subsetSelectors:
                      - keys: [stage]
            """);

        Assert.Equal("helloworld.yaml:9:15: spec.trafficPolicy.loadBalancer.simple: unknown value 'FASTEST' (expected LEAST_REQUEST, ROUND_ROBIN, RANDOM)", error.ToString());
    }

    [Fact]
    public void KeysThatIsNotAList_IsAWrongTypeError()
    {
        var error = SingleError(Header + """
                    subsetSelectors:
                      - keys: stage
            """);

        Assert.Equal("helloworld.yaml:11:19: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys: expected a list, found 'stage'", error.ToString());
        Assert.Equal("DSR1002", error.Code);
    }

    [Fact]
    public void MissingHost_IsAMissingFieldError_AtTheParent()
    {
        var error = SingleError("""
            apiVersion: networking.istio.io/v1beta1
            kind: DestinationRule
            metadata:
              name: helloworld
            spec:
              trafficPolicy: {}
            """);

        Assert.Equal("helloworld.yaml:6:3: spec.host: required field is missing", error.ToString());
        Assert.Equal("DSR1003", error.Code);
    }

    [Fact]
    public void MissingKeys_AndMissingHeader_AreMissingFieldErrors()
    {
        var config = Fixtures.Parse(Header + """
                    subsetSelectors:
                      - fallbackPolicy: ANY_ENDPOINT
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata:
              name: helloworld
            spec:
              hosts: [helloworld]
              http:
                - headerToDynamicSubsetKey:
                    - key: stage
                  route:
                    - destination: { host: helloworld }
            """);

        Assert.Equal(
            [
                "test.yaml:11:13: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys: required field is missing",
                "test.yaml:21:11: spec.http[0].headerToDynamicSubsetKey[0].header: required field is missing",
            ],
            config.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
    }

    public static TheoryData<string, string> CoreValidations => new()
    {
        {
            """
                    subsetSelectors:
                      - keys: [stage, ""]
            """,
            "test.yaml:11:27: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys[1]: key must not be empty"
        },
        {
            """
                    subsetSelectors:
                      - keys: ['%pod%']
            """,
            "test.yaml:11:20: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys[0]: unknown built-in attribute '%pod%' (the built-ins are: %ip%)"
        },
        {
            """
                    subsetSelectors:
                      - keys: []
            """,
            "test.yaml:11:19: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys: a selector needs at least one key"
        },
        {
            """
                    subsetSelectors:
                      - keys: [stage, version]
                        fallbackPolicy: KEYS_SUBSET
                        fallbackKeysSubset: [stage, version]
            """,
            "test.yaml:13:33: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackKeysSubset: must be a proper subset of the selector's keys, not all of them"
        },
        {
            """
                    subsetSelectors:
                      - keys: [stage, version]
                        fallbackPolicy: KEYS_SUBSET
            """,
            "test.yaml:11:13: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackKeysSubset: KEYS_SUBSET needs a non-empty fallbackKeysSubset"
        },
        {
            """
                    subsetSelectors:
                      - keys: [stage, version]
                        fallbackPolicy: ANY_ENDPOINT
                        fallbackKeysSubset: [stage]
            """,
            "test.yaml:13:33: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackKeysSubset: can be set only with fallbackPolicy KEYS_SUBSET"
        },
        {
            """
                    subsetSelectors:
                      - keys: [stage, version]
                        fallbackPolicy: KEYS_SUBSET
                        fallbackKeysSubset: [zone]
            """,
            "test.yaml:13:33: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackKeysSubset: 'zone' is not one of the selector's keys (stage, version)"
        },
        {
            """
                    defaultSubset:
                      '%node%': n1
                    subsetSelectors:
                      - keys: [stage]
            """,
            "test.yaml:11:11: spec.trafficPolicy.loadBalancer.dynamicSubset.defaultSubset['%node%']: unknown built-in attribute '%node%' (the built-ins are: %ip%)"
        },
        {
            """
                    subsetSelectors: []
            """,
            "test.yaml:10:26: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors: at least one selector is needed"
        },
        {
            """
                    subsetSelectors:
                      - keys: [stage]
                        fallbakPolicy: ANY_ENDPOINT
            """,
            "test.yaml:12:13: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbakPolicy: unknown field (expected one of: keys, fallbackPolicy, fallbackKeysSubset)"
        },
    };

    [Theory]
    [MemberData(nameof(CoreValidations))]
    public void CoreValidation_IsReportedAtTheField(string dynamicSubset, string expected)
    {
        var error = SingleError(Header + dynamicSubset, "test.yaml");

        Assert.Equal(expected, error.ToString());
    }

    [Fact]
    public void TwoMappingsToOneKey_IsAnErrorAtTheSecondKey()
    {
        var error = SingleError("""
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata:
              name: helloworld
            spec:
              hosts: [helloworld]
              http:
                - headerToDynamicSubsetKey:
                    - header: x-stage
                      key: stage
                    - header: x-env
                      key: stage
                  route:
                    - destination: { host: helloworld }
            """, "vs.yaml");

        Assert.Equal("vs.yaml:12:16: spec.http[0].headerToDynamicSubsetKey[1].key: key 'stage' is already mapped by spec.http[0].headerToDynamicSubsetKey[0]", error.ToString());
    }

    [Fact]
    public void MappingWithUnknownBuiltIn_IsAnErrorAtTheKey()
    {
        var error = SingleError("""
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata:
              name: helloworld
            spec:
              hosts: [helloworld]
              http:
                - headerToDynamicSubsetKey:
                    - header: x-node
                      key: '%node%'
                  route:
                    - destination: { host: helloworld }
            """, "vs.yaml");

        Assert.Equal("vs.yaml:10:16: spec.http[0].headerToDynamicSubsetKey[0].key: unknown built-in attribute '%node%' (the built-ins are: %ip%)", error.ToString());
    }

    [Fact]
    public void InvalidServiceEntryAddress_IsAnError()
    {
        var error = SingleError("""
            apiVersion: networking.istio.io/v1beta1
            kind: ServiceEntry
            metadata:
              name: legacy
            spec:
              hosts: [legacy.example.com]
              resolution: STATIC
              ports:
                - number: 80
                  name: http
              endpoints:
                - address: 10.0.0.300
                  labels: {version: v1}
            """, "se.yaml");

        Assert.Equal("se.yaml:12:16: spec.endpoints[0].address: '10.0.0.300' is not an IP address", error.ToString());
    }

    [Theory]
    [InlineData("a: [1, 2\nb: c\n", 1, 5)]
    [InlineData("a: 'unterminated\n", 1, 4)]
    [InlineData("a: 1\n b: 2\n", 2, 3)]
    [InlineData("a: 1\na: 2\n", 2, 1)]
    public void YamlSyntaxError_IsReportedWithAPosition(string yaml, int line, int column)
    {
        var error = SingleError(yaml, "bad.yaml");

        Assert.Equal("DSR1001", error.Code);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.StartsWith("invalid YAML: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileWithAnError_IsRejectedWhole_OtherFilesStillLoad()
    {
        var config = MeshConfiguration.Parse(
        [
            new("good.yaml", Fixtures.Dr),
            new("bad.yaml", Fixtures.Vs.Replace("key: stage", "key: ''", StringComparison.Ordinal)),
        ]);

        Assert.True(config.HasErrors);
        Assert.Equal(["DestinationRule"], config.Documents.Select(d => d.Kind));
        var service = Assert.Single(config.Services);
        Assert.Empty(service.Policy.HeaderMappings);
        var ex = Assert.Throws<MeshConfigurationException>(config.ThrowIfInvalid);
        Assert.Contains("bad.yaml:12:16: spec.http[0].headerToDynamicSubsetKey[1].key: key must not be empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SecondRuleForTheSameHost_IsAnError()
    {
        var config = Fixtures.Parse(Fixtures.Dr + "\n---\n" + Fixtures.Dr.Replace("host: helloworld", "host: helloworld.default.svc.cluster.local", StringComparison.Ordinal));

        var error = Assert.Single(config.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("test.yaml:18:9: spec.host: another DestinationRule already has host helloworld.default.svc.cluster.local; only the first is used", error.ToString());
        Assert.Equal("DSR1007", error.Code);
    }

    [Fact]
    public void SameAddressFromTwoSources_IsWarnedAndSkipped()
    {
        var config = Fixtures.Parse(Fixtures.Dr + "\n---\n" + """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: vms}
            spec:
              hosts: [helloworld.default.svc.cluster.local]
              resolution: STATIC
              ports: [{number: 80, name: http}]
              endpoints:
                - {address: 10.1.0.1, labels: {stage: a}}
                - {address: 10.1.0.1, labels: {stage: b}}
            """);

        Assert.Equal("a", Assert.Single(Assert.Single(config.Services).Endpoints).Labels["stage"]);
        var warning = Assert.Single(config.Diagnostics, d => d.Code == "DSR1007");
        Assert.Equal("test.yaml:22:7: spec.endpoints[1]: 10.1.0.1:80 is already an endpoint of helloworld.default.svc.cluster.local (10.1.0.1:80); skipped", warning.ToString());
    }

    [Fact]
    public void UnreadableFile_IsAnError()
    {
        var config = MeshConfiguration.Load([Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid(), "x.yaml")]);

        var error = Assert.Single(config.Diagnostics);
        Assert.Equal(("DSR1008", DiagnosticSeverity.Error), (error.Code, error.Severity));
    }
}
