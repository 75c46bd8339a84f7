using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>
/// Pod changes applied one pod at a time (<see cref="MeshDocumentSet.SetPod(string, PodFacts?, MeshConfiguration, ICollection{PodEndpointChange})"/>
/// and <see cref="PodEndpointChange.TryPlan"/>, as the cluster source applies them, compiling only when they say so) end
/// where compiling the final state from scratch ends: the same endpoints, labels, health and names and an equivalent
/// policy in every pool, static subsets and named target ports included, with pods that swap and share IPs, and rule
/// edits (a target port, a subset's labels) between batches, which compile and publish through MeshServiceResolvers.
/// </summary>
public class IncrementalPodTests
{
    private const string Rules = """
        apiVersion: v1
        kind: Service
        metadata: {name: app, namespace: default}
        spec: {selector: {app: app}, ports: [{name: http, port: 80, targetPort: http}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: other, namespace: default}
        spec: {selector: {app: other}, ports: [{name: http, port: 80, targetPort: 9000}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: app, namespace: default}
        spec:
          host: app.default.svc.cluster.local
          trafficPolicy: {loadBalancer: {dynamicSubset: {subsetSelectors: [{keys: [version]}]}}}
          subsets: [{name: v1, labels: {version: v1}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: other, namespace: default}
        spec: {host: other.default.svc.cluster.local}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: app, namespace: default}
        spec:
          hosts: [app]
          http:
            - match: [{headers: {x-canary: {exact: "1"}}}]
              route: [{destination: {host: app, subset: v1}}]
            - headerToDynamicSubsetKey: [{header: x-version, key: version}]
              route: [{destination: {host: app}}]
        """;

    // Rule edits a batch may carry instead of pods: the app Service's target port, and the v1 subset's labels.
    private static readonly (int Document, string Text)[] RuleEdits =
    [
        (0, "apiVersion: v1\nkind: Service\nmetadata: {name: app, namespace: default}\nspec: {selector: {app: app}, ports: [{name: http, port: 80, targetPort: 8080}]}"),
        (0, "apiVersion: v1\nkind: Service\nmetadata: {name: app, namespace: default}\nspec: {selector: {app: app}, ports: [{name: http, port: 80, targetPort: http}]}"),
        (2, "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: app, namespace: default}\nspec:\n  host: app.default.svc.cluster.local\n  trafficPolicy: {loadBalancer: {dynamicSubset: {subsetSelectors: [{keys: [version]}]}}}\n  subsets: [{name: v1, labels: {version: v2}}]"),
    ];

    private static readonly string[] PodNames = ["p0", "p1", "p2", "p3", "p4", "p5"];
    private static readonly string[] Ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "fd00::1"];

    private static Gen<(string Name, PodFacts? Pod)> ChangeGen =>
        from name in Gen.Elements(PodNames)
        from delete in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
        from app in Gen.Elements("app", "other", "none")
        from version in Gen.Elements("v1", "v2")
        from ips in Gen.Frequency((1, Gen.Constant(Array.Empty<string>())), (6, Gen.Elements(Ips).Select(ip => new[] { ip })), (1, Gen.Constant(new[] { "10.0.0.1", "fd00::1" })))
        from ready in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from named in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        select (name, delete ? null : new PodFacts(
            name, "default", new Dictionary<string, string> { ["app"] = app, ["version"] = version }, ips, ready,
            named ? [new ContainerPort("http", 8080)] : [new ContainerPort("metrics", 9090)]));

    /// <summary>Batches of pod changes, and now and then a rule edit (-1: none), as the cluster delivers them.</summary>
    private static Gen<List<(List<(string Name, PodFacts? Pod)> Pods, int Rule)>> BatchesGen =>
        Gen.ListOf(
            from pods in Gen.NonEmptyListOf(ChangeGen)
            from rule in Gen.Frequency((6, Gen.Constant(-1)), (1, Gen.Choose(0, RuleEdits.Length - 1)))
            select (pods.ToList(), rule)).Select(static l => l.Take(12).ToList());

    [Property(MaxTest = 300)]
    public Property PodChangesAppliedAlone_EqualACompileOfTheFinalState() => Prop.ForAll(Arb.From(BatchesGen), batches =>
    {
        var (documents, compiled, resolvers) = Start();
        foreach (var (pods, rule) in batches)
        {
            if (rule >= 0)
            {
                // A rule edit: the source compiles everything and publishes every service, as the cluster source does.
                Assert.Empty(documents.Set($"rule-{RuleEdits[rule].Document}", RuleEdits[rule].Text));
                compiled = documents.Compile();
                resolvers.Publish(resolvers.Build(compiled), static s => s.Host);
            }

            Apply(documents, ref compiled, resolvers, pods);
        }

        var scratch = documents.Compile();
        Assert.False(scratch.HasErrors, string.Join("\n", scratch.Diagnostics));
        foreach (var service in scratch.Services)
        {
            Assert.Equal(Describe(service.Endpoints), Describe(resolvers[service.Host].Configured.Endpoints));
            Assert.True(service.Policy.IsEquivalentTo(resolvers[service.Host].Configured.Policy));
        }

        return true.ToProperty();
    });

    [Fact]
    public void ARelabelAndAReadinessFlip_AreAppliedAlone_WithoutACompile()
    {
        var (documents, compiled, resolvers) = Start();
        Assert.True(Apply(documents, ref compiled, resolvers, [("p0", Pod("p0", "v1", "10.0.0.1")), ("p1", Pod("p1", "v2", "10.0.0.2"))]));

        Assert.True(Apply(documents, ref compiled, resolvers, [("p0", Pod("p0", "v2", "10.0.0.1"))])); // relabel: out of subset v1
        Assert.True(Apply(documents, ref compiled, resolvers, [("p1", Pod("p1", "v2", "10.0.0.2", ready: false))]));

        Assert.Empty(resolvers["app.default.svc.cluster.local/v1"].Configured.Endpoints);
        Assert.Equal(["10.0.0.1:8080 p0 True", "10.0.0.2:8080 p1 False"], resolvers["app.default.svc.cluster.local"].Configured.Endpoints.Select(e => $"{e.Authority} {e.Name} {e.IsHealthy}"));

        // A pod that takes an IP another pod still holds: the compiler decides which is kept, so this one compiles.
        Assert.False(Apply(documents, ref compiled, resolvers, [("p2", Pod("p2", "v1", "10.0.0.1"))]));
    }

    private static PodFacts Pod(string name, string version, string ip, bool ready = true) =>
        new(name, "default", new Dictionary<string, string> { ["app"] = "app", ["version"] = version }, [ip], ready, [new ContainerPort("http", 8080)]);

    private static (MeshDocumentSet Documents, MeshConfiguration Compiled, MeshServiceResolvers Resolvers) Start()
    {
        var documents = new MeshDocumentSet();
        foreach (var (text, i) in Rules.Split("\n---\n").Select((t, i) => (t, i)))
        {
            Assert.Empty(documents.Set($"rule-{i}", text));
        }

        var compiled = documents.Compile();
        Assert.False(compiled.HasErrors, string.Join("\n", compiled.Diagnostics));
        var resolvers = new MeshServiceResolvers();
        resolvers.Publish(resolvers.Build(compiled), static s => s.Host);
        return (documents, compiled, resolvers);
    }

    /// <summary>One batch as the cluster source applies it: the last version of each pod, alone when it can be; returns whether it was.</summary>
    private static bool Apply(MeshDocumentSet documents, ref MeshConfiguration compiled, MeshServiceResolvers resolvers, List<(string Name, PodFacts? Pod)> batch)
    {
        var last = new Dictionary<string, PodFacts?>(StringComparer.Ordinal);
        foreach (var (name, pod) in batch)
        {
            last["Pod default/" + name] = pod;
        }

        var deltas = new List<PodEndpointChange>();
        foreach (var (key, pod) in last)
        {
            Assert.Empty(documents.SetPod(key, pod, compiled, deltas));
        }

        if (PodEndpointChange.TryPlan(deltas, s => resolvers.Contains(s) ? resolvers[s].Configured : null, MeshConfigurationLimits.Default.MaxEndpointsPerService, out var plan))
        {
            foreach (var (service, changes) in plan)
            {
                resolvers[service].ApplyChanges(changes);
            }

            return true;
        }

        compiled = documents.Compile();
        resolvers.Publish(resolvers.Build(compiled), static s => s.Host);
        return false;
    }

    private static string[] Describe(IEnumerable<Endpoint> endpoints) =>
        [.. endpoints.Select(static e => $"{e.Authority} {e.Name} {e.IsHealthy} {e.Weight} {string.Join(",", e.Labels.OrderBy(static l => l.Key, StringComparer.Ordinal).Select(static l => $"{l.Key}={l.Value}"))}").Order(StringComparer.Ordinal)];
}
