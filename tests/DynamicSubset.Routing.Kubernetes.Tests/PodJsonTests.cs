using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DynamicSubset.Routing.Configuration;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using k8s;
using k8s.Models;

namespace DynamicSubset.Routing.Kubernetes.Tests;

/// <summary>What the catalog keeps of a pod as the API server sends it: the routing fields, read in one pass, with repeated strings held once.</summary>
public class PodJsonTests
{
    /// <summary>A pod as an API server serves it for a Deployment behind a sidecar: most of it is not read.</summary>
    private const string ServedPod = """
        {"kind":"Pod","apiVersion":"v1","metadata":{"name":"cart-7d9c-x2f4k","generateName":"cart-7d9c-","namespace":"shop","uid":"6f1c2a9e-0001-4b1e-9d2c-000000000001",
        "resourceVersion":"48213","creationTimestamp":"2026-12-01T08:15:30Z","labels":{"app":"cart","pod-template-hash":"7d9c","version":"v1","ver\u00e9":"\u00e9t\u00e9"},
        "annotations":{"prometheus.io/scrape":"true","sidecar.istio.io/status":"{\"containers\":[\"istio-proxy\"]}"},
        "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"cart-7d9c","uid":"x","controller":true,"blockOwnerDeletion":true}],
        "managedFields":[{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-12-01T08:15:30Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}},"f:podIP":{}}},"subresource":"status"}]},
        "spec":{"volumes":[{"name":"kube-api-access","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}],"defaultMode":420}}],
        "containers":[{"name":"app","image":"cart:1","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"containerPort":9090,"protocol":"TCP"}],"resources":{"limits":{"memory":"512Mi"}},
        "readinessProbe":{"httpGet":{"path":"/ready","port":8080}}},{"name":"istio-proxy","image":"proxyv2:1.24","ports":[{"name":"http-envoy-prom","containerPort":15090}]}],
        "restartPolicy":"Always","nodeName":"node-1","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},
        "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True","lastProbeTime":null},{"type":"Ready","status":"False","lastProbeTime":null},{"type":"ContainersReady","status":"True"}],
        "hostIP":"192.168.7.1","podIP":"10.0.0.1","podIPs":[{"ip":"10.0.0.1"},{"ip":"fd00::6"}],"startTime":"2026-12-01T08:15:30Z",
        "containerStatuses":[{"name":"app","state":{"running":{"startedAt":"2026-12-01T08:15:31Z"}},"ready":false,"restartCount":0}],"qosClass":"Burstable"}}
        """;

    [Fact]
    public void AServedPod_KeepsWhatRoutingReads()
    {
        var (type, change) = Event("MODIFIED", ServedPod);

        Assert.Equal(WatchEventType.Modified, type);
        Assert.Equal("Pod shop/cart-7d9c-x2f4k", change.Key);
        Assert.Equal("48213", change.ResourceVersion);
        var facts = Assert.IsType<PodFacts>(change.Payload);
        Assert.Equal("cart-7d9c-x2f4k", facts.Name);
        Assert.Equal("shop", facts.Namespace);
        Assert.Equal(["10.0.0.1", "fd00::6"], facts.Ips); // podIP first, then the other podIPs, once each
        Assert.False(facts.Ready); // Ready is False, whatever the other conditions say
        Assert.Equal([new ContainerPort("http", 8080), new ContainerPort(null, 9090), new ContainerPort("http-envoy-prom", 15090)], facts.ContainerPorts);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "cart", ["pod-template-hash"] = "7d9c", ["version"] = "v1", ["veré"] = "été" }, facts.Labels);
    }

    [Fact]
    public void TwoPods_ShareTheirRepeatedLabelKeysValuesAndNamespace()
    {
        var a = Assert.IsType<PodFacts>(Event("ADDED", ServedPod).Object.Payload);
        var b = Assert.IsType<PodFacts>(Event("ADDED", ServedPod.Replace("cart-7d9c-x2f4k", "cart-7d9c-q8w1z", StringComparison.Ordinal)).Object.Payload);

        Assert.NotSame(a.Name, b.Name);
        Assert.Same(a.Namespace, b.Namespace);
        Assert.Same(a.Labels["app"], b.Labels["app"]);
        Assert.Same(a.Labels["veré"], b.Labels["veré"]); // escaped in the JSON: unescaped once, then shared
        Assert.Same(a.Labels.Keys.First(static k => k == "version"), b.Labels.Keys.First(static k => k == "version"));
    }

    [Fact]
    public void TheEventsOrder_DoesNotMatter_NorAPodWithoutLabelsStatusOrNamespace()
    {
        var (type, change) = PodJson.ReadEvent(Bytes("""{"object":{"status":{"podIP":"10.0.0.9"},"metadata":{"name":"bare","resourceVersion":"7"}},"type":"DELETED"}"""));

        Assert.Equal(WatchEventType.Deleted, type);
        Assert.Equal("Pod default/bare", change.Key);
        var facts = Assert.IsType<PodFacts>(change.Payload);
        Assert.Empty(facts.Labels);
        Assert.Empty(facts.ContainerPorts);
        Assert.Equal(["10.0.0.9"], facts.Ips);
        Assert.False(facts.Ready);
    }

    [Fact]
    public void ABookmark_CarriesOnlyItsResourceVersion()
    {
        var (type, change) = Event("BOOKMARK", """{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"9911","annotations":{"k8s.io/initial-events-end":"true"}}}""");

        Assert.Equal(WatchEventType.Bookmark, type);
        Assert.Equal(("", "9911", null), (change.Key, change.ResourceVersion, change.Payload));
    }

    [Fact]
    public void AnError_CarriesItsStatusCodeAndMessage()
    {
        var (type, change) = Event("ERROR", """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (48213)","reason":"Expired","code":410}""");

        Assert.Equal(WatchEventType.Error, type);
        var status = Assert.IsType<JsonObject>(change.Payload);
        Assert.Equal(410, status["code"]!.GetValue<int>());
        Assert.Equal("too old resource version: 1 (48213)", status["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"type":"MODIFIED","object":{"metadata":{"name":"p","labels":{"version":3}}}}""", "metadata.labels.version is not a string")]
    [InlineData("""{"type":"MODIFIED","object":{"spec":{"containers":[{"ports":[{"containerPort":"http"}]}]}}}""", "containerPort is not a number")]
    [InlineData("""{"type":"MODIFIED","object":{"spec":{"containers":[{"ports":[null,{"containerPort":80}]}]}}}""", "spec.containers[].ports[] is Null where an object was expected")]
    [InlineData("""{"type":"MODIFIED","object":{"status":{"conditions":["Ready"]}}}""", "status.conditions[] is String where an object was expected")]
    [InlineData("""{"type":"RESIZED","object":{}}""", "unknown type 'RESIZED'")]
    [InlineData("""{"object":{"metadata":{"name":"p"}}}""", "without a type")]
    [InlineData("""{"type":"ADDED"}""", "without an object")]
    [InlineData("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"p\"", "Expected depth to be zero at the end")]
    [InlineData("""{"type":"ADDED","object":{"metadata":{"name":"p""", "reached end of data")]
    [InlineData("""{"type":"ADDED","object":[]}""", "the event's object is StartArray where StartObject was expected")]
    public void AnEventThatIsNotAPodEvent_IsAnErrorSayingWhatIsWrong(string line, string expected)
    {
        var error = Assert.ThrowsAny<JsonException>(() => PodJson.ReadEvent(Bytes(line)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnObjectNestedPastAnyPods_IsAnError_NotAStackOverflow()
    {
        var deep = string.Concat(Enumerable.Repeat("""{"a":""", 10_000)) + "1" + new string('}', 10_000);

        Assert.ThrowsAny<JsonException>(() => PodJson.ReadEvent(Bytes("""{"type":"ADDED","object":{"spec":""" + deep + "}}")));
    }

    [Fact]
    public void AListPage_GivesItsResourceVersionPodsAndContinueToken()
    {
        var page = PodJson.ReadList(Blocks($$"""{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"50000","continue":"abc","remainingItemCount":3},"items":[{{ServedPod}},{{ServedPod.Replace("x2f4k", "q8w1z", StringComparison.Ordinal)}}]}""", 5));

        Assert.Equal("50000", page.ResourceVersion);
        Assert.Equal("abc", page.Continue);
        Assert.Equal(["Pod shop/cart-7d9c-x2f4k", "Pod shop/cart-7d9c-q8w1z"], page.Items.Select(static i => i.Key));
        Assert.Null(PodJson.ReadList(Bytes("""{"metadata":{"resourceVersion":"1","continue":""},"items":null}""")).Continue);
    }

    /// <summary>Pods as KubernetesClient's model writes them, with what routing reads varied: names, labels (escapes, long ones), IPs, conditions, ports.</summary>
    private static Gen<V1Pod> PodGen =>
        from name in Gen.Elements("a", "cart-1", "pod-\u00e9", "x")
        from ns in Gen.Elements<string?>(null, "default", "shop")
        from labels in Gen.ListOf(Gen.Zip(Gen.Elements("app", "version", "ver\"sion", "stage/x", new string('k', 70)), Gen.Elements("v1", "", "\u00e9t\u00e9", "a\\b", new string('v', 90))))
        from podIp in Gen.Elements<string?>(null, "", "10.0.0.1", "fd00::1")
        from podIps in Gen.ListOf(Gen.Elements("10.0.0.1", "10.0.0.2", "fd00::1", ""))
        from conditions in Gen.ListOf(Gen.Zip(Gen.Elements("Ready", "ContainersReady", "PodScheduled"), Gen.Elements("True", "False", "Unknown")))
        from containers in Gen.ListOf(Gen.ListOf(Gen.Zip(Gen.Elements<string?>(null, "http", "grpc-web"), Gen.Choose(1, 65535))))
        select new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                ResourceVersion = "12",
                Labels = labels.Count == 0 ? null : labels.DistinctBy(static l => l.Item1).ToDictionary(static l => l.Item1, static l => l.Item2),
                Annotations = new Dictionary<string, string> { ["note"] = "{\"ports\":[1]}" },
            },
            Spec = new V1PodSpec
            {
                Containers = [.. containers.Select((ports, i) => new V1Container { Name = "c" + i, Image = "img", Ports = ports.Count == 0 ? null : [.. ports.Select(static p => new V1ContainerPort { Name = p.Item1, ContainerPort = p.Item2 })] })],
            },
            Status = new V1PodStatus
            {
                PodIP = podIp,
                PodIPs = podIps.Count == 0 ? null : [.. podIps.Select(static ip => new V1PodIP { Ip = ip })],
                Conditions = conditions.Count == 0 ? null : [.. conditions.Select(static c => new V1PodCondition { Type = c.Item1, Status = c.Item2 })],
            },
        };

    [Property(MaxTest = 300)]
    public Property AnyPodKubernetesClientWrites_IsReadAsItsTypedModelSays() => Prop.ForAll(Arb.From(PodGen), Arb.From(Gen.Choose(1, 64)), (pod, block) =>
    {
        // In blocks of 1 to 64 bytes: a label, a key or an escape cut between two blocks reads the same.
        var (_, change) = PodJson.ReadEvent(Blocks($$"""{"type":"ADDED","object":{{KubernetesJson.Serialize(pod)}}}""", block));
        var facts = Assert.IsType<PodFacts>(change.Payload);

        // The typed model, read field by field: what the catalog kept of pods before it read them itself.
        var ips = new List<string>();
        foreach (var ip in (string?[])[pod.Status.PodIP, .. pod.Status.PodIPs?.Select(static p => p.Ip) ?? []])
        {
            if (ip is { Length: > 0 } && !ips.Contains(ip))
            {
                ips.Add(ip);
            }
        }

        Assert.Equal(pod.Metadata.Name, facts.Name);
        Assert.Equal(pod.Metadata.NamespaceProperty ?? "default", facts.Namespace);
        Assert.Equal($"Pod {facts.Namespace}/{facts.Name}", change.Key);
        Assert.Equal(pod.Metadata.Labels ?? new Dictionary<string, string>(), facts.Labels);
        Assert.Equal(ips, facts.Ips);
        Assert.Equal(pod.Status.Conditions?.Any(static c => c.Type == "Ready" && c.Status == "True") == true, facts.Ready);
        Assert.Equal(pod.Spec.Containers.SelectMany(static c => c.Ports ?? []).Select(static p => new ContainerPort(p.Name, p.ContainerPort)), facts.ContainerPorts);
        return true.ToProperty();
    });

    private static (WatchEventType Type, KubeObject Object) Event(string type, string json) =>
        PodJson.ReadEvent(Bytes($$"""{"type":"{{type}}","object":{{json.ReplaceLineEndings("")}}}"""));

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>The text in blocks of <paramref name="size"/> bytes, as a pipe hands a stream over: tokens cut anywhere.</summary>
    private static ReadOnlySequence<byte> Blocks(string text, int size)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return BlockSequence.Of(bytes.Chunk(size).Select(static block => (ReadOnlyMemory<byte>)block));
    }
}
