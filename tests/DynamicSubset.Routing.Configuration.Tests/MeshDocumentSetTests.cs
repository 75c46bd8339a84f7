namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>
/// <see cref="MeshDocumentSet"/>: objects set one at a time, as a cluster's watch delivers them; a pod set from typed
/// facts must compile exactly as the same pod written as YAML.
/// </summary>
public class MeshDocumentSetTests
{
    private const string Service = """
        apiVersion: v1
        kind: Service
        metadata: {name: helloworld}
        spec:
          ports: [{port: 8000, name: http, targetPort: http-alt}]
          selector: {app: helloworld}
        """;

    private static string PodYaml(string name, string ip, string version, bool ready = true)
    {
        var status = ready ? "True" : "False";
        return $$$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: {{{name}}}, namespace: default, labels: {app: helloworld, stage: prod, version: {{{version}}}}}
            spec:
              containers: [{name: app, ports: [{name: http-alt, containerPort: 5678}]}]
            status:
              podIP: {{{ip}}}
              conditions: [{type: Ready, status: "{{{status}}}"}]
            """;
    }

    private static PodFacts Pod(string name, string ip, string version, bool ready = true, int port = 5678, string label = "prod") => new(
        name,
        "default",
        new Dictionary<string, string>(StringComparer.Ordinal) { ["app"] = "helloworld", ["stage"] = label, ["version"] = version },
        ip is "" ? [] : [ip],
        ready,
        [new ContainerPort("http-alt", port)]);

    private static MeshDocumentSet Rules()
    {
        var set = new MeshDocumentSet();
        Assert.Empty(set.Set("DestinationRule default/helloworld", Fixtures.Dr));
        Assert.Empty(set.Set("VirtualService default/helloworld", Fixtures.Vs));
        Assert.Empty(set.Set("Service default/helloworld", Service));
        return set;
    }

    private static string Describe(MeshConfiguration config) => string.Join(
        "; ",
        Assert.Single(config.Services).Endpoints
            .Select(static e => $"{e.Authority} healthy={e.IsHealthy} weight={e.Weight} {string.Join(',', e.Labels.OrderBy(static l => l.Key, StringComparer.Ordinal).Select(static l => $"{l.Key}={l.Value}"))}")
            .Order(StringComparer.Ordinal));

    [Fact]
    public void PodFromFacts_CompilesAsTheSamePodWrittenAsYaml()
    {
        var typed = Rules();
        var yaml = Rules();

        Assert.Empty(typed.SetPod("Pod default/a", Pod("a", "10.0.0.1", "v1")));
        Assert.Empty(typed.SetPod("Pod default/b", Pod("b", "10.0.0.2", "v2", ready: false)));
        Assert.Empty(yaml.Set("Pod default/a", PodYaml("a", "10.0.0.1", "v1")));
        Assert.Empty(yaml.Set("Pod default/b", PodYaml("b", "10.0.0.2", "v2", ready: false)));

        var fromFacts = typed.Compile();
        var fromYaml = yaml.Compile();

        Assert.False(fromFacts.HasErrors, string.Join('\n', fromFacts.Diagnostics));
        Assert.Equal(Describe(fromYaml), Describe(fromFacts));
        Assert.Contains("10.0.0.1:5678 healthy=True", Describe(fromFacts), StringComparison.Ordinal);
        Assert.Equal(fromYaml.Services[0].Port, fromFacts.Services[0].Port);
    }

    [Fact]
    public void PodFromFacts_WithAnOverlongLabel_IsRejectedWithWhereAndWhy_AndTheLastGoodVersionStays()
    {
        var set = Rules();
        Assert.Empty(set.SetPod("Pod default/a", Pod("a", "10.0.0.1", "v1")));

        var errors = set.SetPod("Pod default/a", Pod("a", "10.0.0.9", "v1", label: new string('x', MeshConfigurationLimits.Default.MaxLabelLength + 1)));

        var error = Assert.Single(errors);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.StartsWith("Pod default/a:1:1: metadata.labels['stage']: a label longer than ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("10.0.0.1:5678", Describe(set.Compile()), StringComparison.Ordinal);
        Assert.DoesNotContain("10.0.0.9", Describe(set.Compile()), StringComparison.Ordinal);
    }

    [Fact]
    public void PodFromFacts_WithAnEmptyLabelKey_IsRejectedWithWhereAndWhy_AndTheLastGoodVersionStays()
    {
        var set = Rules();
        Assert.Empty(set.SetPod("Pod default/a", Pod("a", "10.0.0.1", "v1")));
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["app"] = "helloworld", [""] = "x" };

        var error = Assert.Single(set.SetPod("Pod default/a", Pod("a", "10.0.0.9", "v1") with { Labels = labels }));

        Assert.Equal("Pod default/a:1:1: metadata.labels[1]: label key must not be empty", error.ToString());
        Assert.Contains("10.0.0.1:5678", Describe(set.Compile()), StringComparison.Ordinal);
    }

    [Fact]
    public void APodDocument_WithAnEmptyLabelKey_LosesItsEndpointWithAWarning_AndTheOtherPodsServe()
    {
        var set = Rules();
        Assert.Empty(set.Set("Pod default/a", PodYaml("a", "10.0.0.1", "v1")));
        Assert.Empty(set.Set("Pod default/b", PodYaml("b", "10.0.0.2", "v2").Replace("labels: {app: helloworld,", "labels: {'': x, app: helloworld,", StringComparison.Ordinal)));

        var config = set.Compile();

        Assert.False(config.HasErrors, string.Join('\n', config.Diagnostics));
        Assert.Contains(config.Diagnostics, d => d.Severity == DiagnosticSeverity.Warning && d.File == "Pod default/b" && d.Message == "label key must not be empty; endpoint skipped");
        Assert.Equal("10.0.0.1:5678 healthy=True weight=1 app=helloworld,stage=prod,version=v1", Describe(config));
    }

    [Fact]
    public void APodsLabels_AreOneSet_ThatItsEndpointsShare_CompileAfterCompile()
    {
        // One copy of a pod's labels, held by the pod and every endpoint made from it, not one per endpoint per compile.
        var set = Rules();
        Assert.Empty(set.SetPod("Pod default/a", Pod("a", "10.0.0.1", "v1")));
        Assert.Empty(set.Set("Pod default/b", PodYaml("b", "10.0.0.2", "v2")));

        var first = Assert.Single(set.Compile().Services).Endpoints;
        var second = Assert.Single(set.Compile().Services).Endpoints;

        foreach (var address in (string[])["10.0.0.1", "10.0.0.2"])
        {
            var labels = Assert.IsType<LabelSet>(first.Single(e => e.AddressText == address).Labels);
            Assert.Same(labels, second.Single(e => e.AddressText == address).Labels);
            Assert.Equal(3, labels.Count);
        }
    }

    [Fact]
    public void PodFromFacts_WithAPortOutOfRange_IsRejected()
    {
        var set = Rules();

        var error = Assert.Single(set.SetPod("Pod default/a", Pod("a", "10.0.0.1", "v1", port: 70000)));

        Assert.Equal("Pod default/a:1:1: spec.containers[].ports[].containerPort: 70000 is out of range (expected 1 to 65535)", error.ToString());
        Assert.Equal(3, set.Count);
    }

    [Fact]
    public void PodFromFacts_WithoutAnIp_LeavesTheSet_AsAPodDocumentWould()
    {
        var set = Rules();
        Assert.Empty(set.SetPod("Pod default/a", Pod("a", "10.0.0.1", "v1")));
        Assert.Empty(set.SetPod("Pod default/b", Pod("b", "10.0.0.2", "v1")));

        Assert.Empty(set.SetPod("Pod default/a", Pod("a", "", "v1")));

        Assert.Equal(4, set.Count);
        Assert.Equal("10.0.0.2:5678 healthy=True weight=1 app=helloworld,stage=prod,version=v1", Describe(set.Compile()));
    }

    [Fact]
    public void PodFromFacts_ReplacesThePodsYamlVersion_UnderTheSameName()
    {
        var set = Rules();
        Assert.Empty(set.Set("Pod default/a", PodYaml("a", "10.0.0.1", "v1")));

        Assert.Empty(set.SetPod("Pod default/a", Pod("a", "10.0.0.1", "v2")));

        Assert.Equal(4, set.Count);
        Assert.Contains("version=v2", Describe(set.Compile()), StringComparison.Ordinal);
        Assert.DoesNotContain("version=v1", Describe(set.Compile()), StringComparison.Ordinal);
    }
}
