using System.Text;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>
/// Hostile and broken input found by probing the reader: each is a clear diagnostic with a position, never a crash,
/// a hang or an unbounded allocation. Named after what broke.
/// </summary>
public class LimitTests
{
    private static string ServiceEntry(params long[] weights)
    {
        var b = new StringBuilder("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: vms}
            spec:
              hosts: [helloworld]
              resolution: STATIC
              ports: [{number: 8000, name: http, targetPort: 5678}]
              endpoints:

            """);
        for (var i = 0; i < weights.Length; i++)
        {
            b.Append(System.Globalization.CultureInfo.InvariantCulture, $"    - {{address: 10.0.0.{i + 1}, labels: {{stage: prod, version: v3}}, weight: {weights[i]}}}\n");
        }

        return b.ToString();
    }

    private static MeshConfiguration WithRule(string yaml, MeshConfigurationLimits? limits = null) =>
        MeshConfiguration.Parse([new("rules.yaml", Fixtures.Dr + "\n---\n" + Fixtures.Vs), new("test.yaml", yaml)], limits ?? MeshConfigurationLimits.Default);

    private static ConfigurationDiagnostic SingleError(MeshConfiguration config) =>
        Assert.Single(config.Diagnostics, static d => d.Severity == DiagnosticSeverity.Error);

    [Theory]
    [InlineData(2147483647L, 1L)]
    [InlineData(4294967295L, 4294967295L, 1L)]
    public void OverflowingWeights_WhichAbortedTheProcess_BuildAndRoute(params long[] weights)
    {
        var config = WithRule(ServiceEntry(weights));

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        var resolver = new SubsetResolver(config.FindService("helloworld")!.BuildIndex());
        Assert.True(resolver.Resolve(Fixtures.Headers(("x-stage", "prod"), ("x-version", "v3"))).HasEndpoint);
    }

    [Theory]
    [InlineData("4294967296", "4294967296 is out of range (expected 0 to 4294967295)")]
    [InlineData("99999999999999999999999", "99999999999999999999999 is out of range (expected 0 to 4294967295)")]
    public void WeightBeyondUInt32_IsAnErrorAtTheValue(string weight, string message)
    {
        var error = SingleError(WithRule(ServiceEntry(1).Replace("weight: 1", $"weight: {weight}", StringComparison.Ordinal)));

        Assert.Equal($"test.yaml:9:71: spec.endpoints[0].weight: {message}", error.ToString());
        Assert.Equal("DSR1005", error.Code);
    }

    [Theory]
    [InlineData("{a: ", "}", 20_000)]
    [InlineData("[", "]", 20_000)]
    [InlineData("- ", "", 2_000)]
    public void DeepNesting_WhichOverflowedTheStack_IsAnErrorAtTheLevelPastTheLimit(string open, string close, int depth)
    {
        var yaml = depth > 5_000 || close.Length > 0
            ? string.Concat(Enumerable.Repeat(open, depth)) + "x" + string.Concat(Enumerable.Repeat(close, depth))
            : string.Join("\n", Enumerable.Range(0, depth).Select(i => new string(' ', i * 2) + open)) + "x";

        var error = SingleError(MeshConfiguration.Parse([new("deep.yaml", yaml)]));

        Assert.Equal("DSR1001", error.Code);
        Assert.EndsWith(": invalid YAML: nested more than 100 levels deep (MeshConfigurationLimits.MaxDepth)", error.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("deep.yaml:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void NestingAtTheLimit_IsAccepted()
    {
        var yaml = "kind: Nothing\napiVersion: v1\nx: " + string.Concat(Enumerable.Repeat("[", 99)) + string.Concat(Enumerable.Repeat("]", 99));

        Assert.False(MeshConfiguration.Parse([new("ok.yaml", yaml)]).HasErrors);
    }

    [Fact]
    public void AliasBomb_OfListsThatRepeatLists_IsAnErrorAtTheAliasPastTheLimit()
    {
        // Each level repeats the one before ten times: 4 KB that a reader walking it would expand to 10^8 pods.
        var b = new StringBuilder("apiVersion: v1\nkind: List\nx0: &l0 {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {app: a}}, status: {podIP: 10.0.0.1}}\n");
        for (var level = 1; level <= 8; level++)
        {
            b.Append(System.Globalization.CultureInfo.InvariantCulture, $"x{level}: &l{level} {{apiVersion: v1, kind: List, items: [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 10))}]}}\n");
        }

        b.Append("items: [*l8]\n");

        var error = SingleError(MeshConfiguration.Parse([new("bomb.yaml", b.ToString())]));

        Assert.Equal("DSR1001", error.Code);
        Assert.Matches(@"^bomb\.yaml:\d+:\d+: invalid YAML: aliases stand for more than 100000 nodes \(MeshConfigurationLimits\.MaxAliasExpansion\)$", error.ToString());
    }

    [Fact]
    public void FewAliases_AsWrittenByHand_AreAccepted()
    {
        var yaml = ServiceEntry().TrimEnd('\n', ' ') + """

                - {address: 10.0.0.1, labels: &prod {stage: prod, version: v3}}
                - {address: 10.0.0.2, labels: *prod}
            """;

        var config = WithRule(yaml);

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.Equal(2, config.FindService("helloworld")!.Endpoints.Count(e => e.Labels["stage"] == "prod"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    [InlineData("---\n---\n")]
    public void EmptyFile_WhichWasAcceptedAsZeroServices_IsAnError(string content)
    {
        var error = SingleError(WithRule(content));

        Assert.Equal("test.yaml:1:1: the file holds no document", error.ToString());
        Assert.Equal("DSR1010", error.Code);
    }

    [Fact]
    public void TooManyDocuments_IsAnError()
    {
        var yaml = string.Concat(Enumerable.Repeat("kind: Nothing\napiVersion: v1\n---\n", 11));

        var error = SingleError(MeshConfiguration.Parse([new("many.yaml", yaml)], new MeshConfigurationLimits { MaxDocuments = 10 }));

        Assert.Equal("many.yaml:30:1: invalid YAML: more than 10 documents (MeshConfigurationLimits.MaxDocuments)", error.ToString());
    }

    [Fact]
    public void FileLargerThanTheLimit_IsRefusedBeforeItIsRead()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dsr-large-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, new string('#', 2048));
        try
        {
            var error = SingleError(MeshConfiguration.Load([path], new MeshConfigurationLimits { MaxFileBytes = 1024 }));

            Assert.Equal($"{path}:1:1: 2048 bytes, more than 1024 (MeshConfigurationLimits.MaxFileBytes)", error.ToString());
            Assert.Equal("DSR1009", error.Code);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TooManySelectors_IsAnErrorAtTheFirstOnePastTheLimit()
    {
        var yaml = Fixtures.DrHeader + "        subsetSelectors:\n" + string.Concat(Enumerable.Range(0, 5).Select(i => $"          - keys: [k{i}]\n"));

        var error = SingleError(MeshConfiguration.Parse([new("dr.yaml", yaml)], new MeshConfigurationLimits { MaxSelectorsPerRule = 3 }));

        Assert.Equal("dr.yaml:14:13: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[3]: more than 3 selectors (MeshConfigurationLimits.MaxSelectorsPerRule)", error.ToString());
        Assert.Equal("DSR1009", error.Code);
    }

    [Fact]
    public void TooManyRoutes_IsAnErrorAtTheFirstOnePastTheLimit()
    {
        var yaml = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n  hosts: [vs]\n  http:\n" +
            string.Concat(Enumerable.Range(0, 4).Select(i => $"    - route: [{{destination: {{host: h{i}}}}}]\n"));

        var error = SingleError(MeshConfiguration.Parse([new("vs.yaml", yaml)], new MeshConfigurationLimits { MaxRoutesPerVirtualService = 3 }));

        Assert.Equal("vs.yaml:10:7: spec.http[3]: more than 3 routes (MeshConfigurationLimits.MaxRoutesPerVirtualService)", error.ToString());
        Assert.Equal("DSR1009", error.Code);
    }

    [Fact]
    public void TooManyRegexes_IsAnErrorAtTheFirstOnePastTheLimit()
    {
        // Each regex costs about half a millisecond to compile: 40,000 of them in a 2.6 MB file took 41 s to read.
        var yaml = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n  hosts: [vs]\n  http:\n" +
            string.Concat(Enumerable.Range(0, 3).Select(i => $"    - match: [{{uri: {{regex: '/a{i}.*'}}}}]\n      route: [{{destination: {{host: h}}}}]\n"));

        var error = SingleError(MeshConfiguration.Parse([new("vs.yaml", yaml)], new MeshConfigurationLimits { MaxRegexesPerFile = 2 }));

        Assert.Equal("vs.yaml:11:29: spec.http[2].match[0].uri.regex: more than 2 regexes in the file (MeshConfigurationLimits.MaxRegexesPerFile)", error.ToString());
    }

    [Fact]
    public void TooManyKeysInASelector_IsAnError()
    {
        var yaml = Fixtures.DrHeader + "        subsetSelectors:\n          - keys: [a, b, c]\n";

        var error = SingleError(MeshConfiguration.Parse([new("dr.yaml", yaml)], new MeshConfigurationLimits { MaxKeysPerSelector = 2 }));

        Assert.Equal("dr.yaml:11:13: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys: 3 keys, more than 2 (MeshConfigurationLimits.MaxKeysPerSelector)", error.ToString());
    }

    [Fact]
    public void LongLabel_IsAnErrorAtTheValue()
    {
        var yaml = ServiceEntry(1).Replace("version: v3", "version: " + new string('v', 2000), StringComparison.Ordinal);

        var error = SingleError(WithRule(yaml));

        Assert.Equal("test.yaml:9:58: spec.endpoints[0].labels['version']: a value of 2000 characters is longer than 1024 (MeshConfigurationLimits.MaxLabelLength)", error.ToString());
    }

    [Fact]
    public void TooManyEndpoints_RejectsTheService()
    {
        var error = SingleError(WithRule(ServiceEntry(1, 1, 1), new MeshConfigurationLimits { MaxEndpointsPerService = 2 }));

        Assert.Equal("rules.yaml:6:9: spec.host: helloworld.default.svc.cluster.local has 3 endpoints, more than 2 (MeshConfigurationLimits.MaxEndpointsPerService)", error.ToString());
    }

    [Fact]
    public void ManySelectors_ReadInLinearTime_AllOfThemChecked()
    {
        // 60,000 selectors took 24.5 s to validate (each compared with every earlier one). With the limit raised, the
        // duplicate warning still names the first selector of each key set.
        var yaml = Fixtures.DrHeader + "        subsetSelectors:\n" +
            string.Concat(Enumerable.Range(0, 60_000).Select(i => $"          - keys: [k{i % 30_000}]\n"));

        var config = MeshConfiguration.Parse([new("dr.yaml", yaml)], new MeshConfigurationLimits { MaxSelectorsPerRule = 100_000 });

        var warnings = config.Diagnostics.Where(d => d.Code == "DSR2007").ToList();
        Assert.Equal(30_000, warnings.Count);
        Assert.EndsWith("subsetSelectors[59999]: has the same keys as subsetSelectors[29999] {k29999}; only the first one counts", warnings[^1].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ManyHeaderMatches_InOneBlock_ReadInLinearTime_AndAllChecked()
    {
        // 50,000 header matches in one block took 10 s to read and compile: every field was looked up by a scan of its
        // map, and every header's slot by a scan of the names so far. Both are hashed now.
        const int n = 20_000;
        var yaml = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n  hosts: [vs]\n  http:\n    - match:\n        - headers:\n" +
            string.Concat(Enumerable.Range(0, n).Select(i => $"            x-h{i}: {{exact: v{i}}}\n")) +
            "      route: [{destination: {host: vs}}]\n";

        var config = MeshConfiguration.Parse([new("vs.yaml", yaml)]);
        using var catalog = config.CreateCatalog();
        Assert.True(catalog.Current.TryFind("vs", out var service));
        var all = Enumerable.Range(0, n).ToDictionary(i => $"x-h{i}", i => $"v{i}", StringComparer.OrdinalIgnoreCase);

        Assert.False(service.Route(new RouteRequest("GET", "/"), new DictionaryHeaderSource(all)).IsNoRoute);
        all["x-h19999"] = "other";
        Assert.True(service.Route(new RouteRequest("GET", "/"), new DictionaryHeaderSource(all)).IsNoRoute);
        Assert.Equal("header x-h19999 does not match exact 'v19999'", Assert.Single(service.ExplainRoutes(new RouteRequest("GET", "/"), new DictionaryHeaderSource(all))).Reason);
    }
}
