using System.Globalization;
using System.Text.Json.Nodes;
using DynamicSubset.Routing.Kubernetes.Tests;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// The stand-in API server (the tests' wire-protocol fake) in a process of its own, so that what it costs (it keeps and
/// serializes every object and event) is not counted as the catalog's. Not a BenchmarkDotNet class. Two clusters:
/// <list type="bullet">
/// <item><c>--pod name/stage/version/IP ...</c> (<c>CHURN=pods benchmarks/gateway-wrk.sh</c>): the reference page's
/// helloworld Service, DestinationRule and VirtualService over those pods, one pod relabelled at a time at <c>--rate</c>
/// from the start; the relabel toggles a label no selector reads, so routing stays the same.</item>
/// <item><c>--synthetic N</c> (<c>kubernetes-scale</c>): N pods behind one DestinationRule ({stage, version} and {%ip%}),
/// and one pod in the namespace <c>warm-up</c>; the churn (a random pod's version, and one change in ten a readiness
/// flip) runs from a <c>churn</c> line on standard input to a <c>pause</c> or <c>stop</c> line, and again from the next
/// <c>churn</c>. With <c>--kubelet-shape</c> each pod
/// is shaped as an API server serves a Deployment's pod (owner, managed fields, two containers with probes and
/// resources, a projected volume, five conditions, container statuses: 6.5 KB of JSON), not only the fields routing
/// reads.</item>
/// </list>
/// The server's address goes to <c>--kubeconfig FILE</c> as a kubeconfig, and to standard output as <c>listening URL</c>.
/// When the churn pauses or ends (a <c>pause</c> or <c>stop</c> line, SIGTERM or SIGINT) it prints <c>changes: N</c>, the
/// changes made since it last began.
/// </summary>
internal static class StandInCluster
{
    public static async Task<int> RunAsync(string[] args)
    {
        var ip = "127.0.40.40";
        string? kubeconfig = null;
        var rate = 100;
        var synthetic = 0;
        var kubeletShape = false;
        var pods = new List<JsonObject>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--listen":
                    ip = args[i + 1];
                    break;
                case "--kubeconfig":
                    kubeconfig = args[i + 1];
                    break;
                case "--rate":
                    rate = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--synthetic":
                    synthetic = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--kubelet-shape":
                    kubeletShape = args[i + 1] == "true";
                    break;
                case "--pod" when args[i + 1].Split('/') is [var name, var stage, var version, var address]:
                    pods.Add(HelloPod(name, stage, version, address, churn: 0));
                    break;
                default:
                    Console.Error.WriteLine($"stand-in-cluster: unknown or malformed argument '{args[i]} {args[i + 1]}'");
                    return 2;
            }
        }

        if ((pods.Count == 0) == (synthetic <= 0) || rate <= 0)
        {
            Console.Error.WriteLine("stand-in-cluster needs either --pod name/stage/version/IP (one or more) or --synthetic N, and a positive --rate");
            return 2;
        }

        await using var api = await FakeApiServer.StartAsync(ip);
        Func<long, JsonObject> change;
        if (synthetic > 0)
        {
            PutSynthetic(api, synthetic, kubeletShape);
            var random = new Random(7);
            change = _ => SyntheticPod(random.Next(synthetic), version: random.Next(5), ready: random.Next(10) != 0, kubeletShape);
        }
        else
        {
            PutHelloworld(api, pods);
            change = n =>
            {
                var pod = pods[(int)(n % pods.Count)];
                var labels = pod["metadata"]!["labels"]!;
                return HelloPod(pod["metadata"]!["name"]!.GetValue<string>(), labels["stage"]!.GetValue<string>(), labels["version"]!.GetValue<string>(),
                    pod["status"]!["podIP"]!.GetValue<string>(), churn: (int)((n / pods.Count) % 2) + 1);
            };
        }

        var server = api.Address.ToString().TrimEnd('/');
        if (kubeconfig is not null)
        {
            // Written once the server listens, then moved into place, so a reader never sees half a file.
            File.WriteAllText(kubeconfig + ".tmp", $$$"""
                apiVersion: v1
                kind: Config
                clusters: [{name: standin, cluster: {server: "{{{server}}}"}}]
                contexts: [{name: standin, context: {cluster: standin, user: nobody, namespace: default}}]
                users: [{name: nobody, user: {token: stand-in}}]
                current-context: standin
                """);
            File.Move(kubeconfig + ".tmp", kubeconfig, overwrite: true);
        }

        Console.WriteLine($"listening {server}");

        // SIGTERM, SIGINT or a "stop" line ends the churn, and the count is printed before the process exits.
        using var stop = new CancellationTokenSource();
        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        // One change per tick; a PeriodicTimer keeps the rate without drifting. The synthetic cluster changes only while
        // churning: between a "churn" line and a "pause" or "stop" line, each of which prints the changes made since the
        // "churn". The other changes from the start until a signal.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / rate));
        var gate = new object();
        var churning = synthetic <= 0;
        long total = 0; // every change made: the sequence the changes follow
        long since = 0; // the changes made since the last "churn"
        if (synthetic > 0)
        {
            _ = Task.Run(async () =>
            {
                while (await Console.In.ReadLineAsync(stop.Token) is { } line && line != "stop")
                {
                    lock (gate)
                    {
                        if (line == "churn")
                        {
                            (churning, since) = (true, 0);
                        }
                        else if (line == "pause" && churning)
                        {
                            churning = false;
                            Console.WriteLine($"changes: {since}");
                        }
                    }
                }

                await stop.CancelAsync(); // a "stop" line, or standard input closed
            });
        }

        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                lock (gate)
                {
                    if (churning)
                    {
                        api.Put("pods", change(total));
                        total++;
                        since++;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        lock (gate)
        {
            if (churning)
            {
                Console.WriteLine($"changes: {since}"); // a pause has printed its own
            }
        }

        return 0;
    }

    private static void PutHelloworld(FakeApiServer api, List<JsonObject> pods)
    {
        foreach (var pod in pods)
        {
            api.Put("pods", pod);
        }

        api.Put("services", JsonNode.Parse("""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "helloworld", "namespace": "default", "labels": {"app": "helloworld", "service": "helloworld"}},
             "spec": {"selector": {"app": "helloworld"}, "ports": [{"name": "http", "port": 8000, "targetPort": 8080}]}}
            """)!.AsObject());
        api.Put("destinationrules", JsonNode.Parse("""
            {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"host": "helloworld.default.svc.cluster.local", "trafficPolicy": {"loadBalancer": {"dynamicSubset": {"subsetSelectors": [{"keys": ["stage", "version"]}]}}}}}
            """)!.AsObject());
        api.Put("virtualservices", JsonNode.Parse("""
            {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"hosts": ["helloworld.default.svc.cluster.local"], "http": [{"name": "default",
               "headerToDynamicSubsetKey": [{"header": "x-version", "key": "version", "defaultValue": "v3"}, {"header": "x-stage", "key": "stage", "defaultValue": "prod"}],
               "route": [{"destination": {"host": "helloworld.default.svc.cluster.local", "port": {"number": 8000}}}]}]}}
            """)!.AsObject());
    }

    private static void PutSynthetic(FakeApiServer api, int pods, bool kubeletShape)
    {
        for (var i = 0; i < pods; i++)
        {
            api.Put("pods", SyntheticPod(i, version: i % 5, ready: true, kubeletShape));
        }

        var warm = SyntheticPod(pods, version: 0, ready: true, kubeletShape);
        warm["metadata"]!["namespace"] = "warm-up";
        api.Put("pods", warm);
        api.Put("services", JsonNode.Parse("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","namespace":"default"},"spec":{"selector":{"app":"svc"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}""")!.AsObject());
        api.Put("destinationrules", JsonNode.Parse("""{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"svc","namespace":"default"},"spec":{"host":"svc.default.svc.cluster.local","trafficPolicy":{"loadBalancer":{"dynamicSubset":{"subsetSelectors":[{"keys":["stage","version"]},{"keys":["%ip%"]}]}}}}}""")!.AsObject());
        api.Put("virtualservices", JsonNode.Parse("""{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"svc","namespace":"default"},"spec":{"hosts":["svc.default.svc.cluster.local"],"http":[{"headerToDynamicSubsetKey":[{"header":"x-version","key":"version"},{"header":"x-stage","key":"stage"},{"header":"x-ip","key":"%ip%"}],"route":[{"destination":{"host":"svc.default.svc.cluster.local"}}]}]}}""")!.AsObject());
    }

    /// <summary>
    /// The synthetic cluster's pod <paramref name="i"/>: its own IP, stage s0 to s2 by index, the given version; with
    /// <paramref name="kubeletShape"/>, the rest of what an API server serves for such a pod.
    /// </summary>
    public static JsonObject SyntheticPod(int i, int version, bool ready, bool kubeletShape = false)
    {
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = "pod-" + i.ToString(CultureInfo.InvariantCulture),
                ["namespace"] = "default",
                ["labels"] = new JsonObject { ["app"] = "svc", ["stage"] = "s" + (i % 3).ToString(CultureInfo.InvariantCulture), ["version"] = "v" + version.ToString(CultureInfo.InvariantCulture) },
            },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 8080 }) }) },
            ["status"] = new JsonObject
            {
                ["podIP"] = SyntheticIp(i),
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
            },
        };
        return kubeletShape ? KubeletShape(pod, i, version, ready) : pod;
    }

    /// <summary>Fills a synthetic pod out to what an API server serves for a Deployment's pod behind an Istio sidecar.</summary>
    private static JsonObject KubeletShape(JsonObject pod, int i, int version, bool ready)
    {
        var name = pod["metadata"]!["name"]!.GetValue<string>();
        var ip = SyntheticIp(i);
        var hash = "7d9c" + (version * 7919 % 100000).ToString("D5", CultureInfo.InvariantCulture);
        var uid = $"6f1c2a9e-{i % 65536:x4}-4b1e-9d2c-{i:x12}";
        const string Time = "2026-12-01T08:15:30Z";
        var metadata = pod["metadata"]!.AsObject();
        metadata["generateName"] = $"svc-{hash}-";
        metadata["uid"] = uid;
        metadata["creationTimestamp"] = Time;
        metadata["labels"]!["pod-template-hash"] = hash;
        metadata["labels"]!["security.istio.io/tlsMode"] = "istio";
        metadata["labels"]!["service.istio.io/canonical-name"] = "svc";
        metadata["annotations"] = new JsonObject
        {
            ["kubectl.kubernetes.io/restartedAt"] = Time,
            ["prometheus.io/scrape"] = "true",
            ["prometheus.io/port"] = "15020",
            ["sidecar.istio.io/status"] = """{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}""",
        };
        metadata["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = $"svc-{hash}", ["uid"] = "0b4e5d1a-1111-4c2b-8e3f-2a6b7c8d9e0f", ["controller"] = true, ["blockOwnerDeletion"] = true,
        });
        metadata["managedFields"] = new JsonArray(
            ManagedFields("kube-controller-manager", null, """{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{},"f:stage":{},"f:version":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"0b4e5d1a-1111-4c2b-8e3f-2a6b7c8d9e0f\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"f:resources":{".":{},"f:limits":{".":{},"f:memory":{}},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}"""),
            ManagedFields("kubelet", "status", """{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.0.0.1\"}":{".":{},"f:ip":{}}},"f:startTime":{}}}"""));
        pod["spec"] = new JsonObject
        {
            ["volumes"] = new JsonArray(new JsonObject
            {
                ["name"] = "kube-api-access-x7k2p",
                ["projected"] = JsonNode.Parse("""{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}"""),
            }),
            ["containers"] = new JsonArray(
                Container("app", "registry.example.com/svc:1." + version.ToString(CultureInfo.InvariantCulture), """[{"name":"http","containerPort":8080,"protocol":"TCP"}]"""),
                Container("istio-proxy", "docker.io/istio/proxyv2:1.24.2", """[{"name":"http-envoy-prom","containerPort":15090,"protocol":"TCP"}]""")),
            ["restartPolicy"] = "Always",
            ["terminationGracePeriodSeconds"] = 30,
            ["dnsPolicy"] = "ClusterFirst",
            ["serviceAccountName"] = "default",
            ["serviceAccount"] = "default",
            ["nodeName"] = "node-" + (i % 50).ToString(CultureInfo.InvariantCulture),
            ["securityContext"] = new JsonObject(),
            ["schedulerName"] = "default-scheduler",
            ["tolerations"] = JsonNode.Parse("""[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]"""),
            ["priority"] = 0,
            ["enableServiceLinks"] = true,
            ["preemptionPolicy"] = "PreemptLowerPriority",
        };
        var status = ready ? "True" : "False";
        pod["status"] = new JsonObject
        {
            ["phase"] = "Running",
            ["conditions"] = new JsonArray(
                Condition("PodReadyToStartContainers", "True"), Condition("Initialized", "True"), Condition("Ready", status), Condition("ContainersReady", status), Condition("PodScheduled", "True")),
            ["hostIP"] = "192.168.7." + (i % 50).ToString(CultureInfo.InvariantCulture),
            ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = "192.168.7." + (i % 50).ToString(CultureInfo.InvariantCulture) }),
            ["podIP"] = ip,
            ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip }),
            ["startTime"] = Time,
            ["containerStatuses"] = new JsonArray(ContainerStatus("app", ready), ContainerStatus("istio-proxy", ready: true)),
            ["qosClass"] = "Burstable",
        };
        return pod;

        static JsonObject ManagedFields(string manager, string? subresource, string fields)
        {
            var entry = new JsonObject { ["manager"] = manager, ["operation"] = "Update", ["apiVersion"] = "v1", ["time"] = Time, ["fieldsType"] = "FieldsV1", ["fieldsV1"] = JsonNode.Parse(fields) };
            if (subresource is not null)
            {
                entry["subresource"] = subresource;
            }

            return entry;
        }

        static JsonObject Container(string name, string image, string ports) => new()
        {
            ["name"] = name,
            ["image"] = image,
            ["ports"] = JsonNode.Parse(ports),
            ["env"] = JsonNode.Parse("""[{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},{"name":"POD_NAMESPACE","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}},{"name":"LOG_LEVEL","value":"info"}]"""),
            ["resources"] = JsonNode.Parse("""{"limits":{"memory":"512Mi"},"requests":{"cpu":"100m","memory":"128Mi"}}"""),
            ["volumeMounts"] = JsonNode.Parse("""[{"name":"kube-api-access-x7k2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]"""),
            ["readinessProbe"] = JsonNode.Parse("""{"httpGet":{"path":"/healthz/ready","port":15021,"scheme":"HTTP"},"initialDelaySeconds":1,"timeoutSeconds":3,"periodSeconds":15,"successThreshold":1,"failureThreshold":4}"""),
            ["terminationMessagePath"] = "/dev/termination-log",
            ["terminationMessagePolicy"] = "File",
            ["imagePullPolicy"] = "IfNotPresent",
        };

        static JsonObject Condition(string type, string status) =>
            new() { ["type"] = type, ["status"] = status, ["lastProbeTime"] = null, ["lastTransitionTime"] = Time };

        static JsonObject ContainerStatus(string name, bool ready) => new()
        {
            ["name"] = name,
            ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Time } },
            ["lastState"] = new JsonObject(),
            ["ready"] = ready,
            ["restartCount"] = 0,
            ["image"] = "registry.example.com/" + name + ":1.0",
            ["imageID"] = "registry.example.com/" + name + "@sha256:3f9a0c1e5b7d9e2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f",
            ["containerID"] = "containerd://9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
            ["started"] = true,
        };
    }

    public static string SyntheticIp(int i) => $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";

    private static JsonObject HelloPod(string name, string stage, string version, string ip, int churn) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "default",
            ["labels"] = new JsonObject { ["app"] = "helloworld", ["stage"] = stage, ["version"] = version, ["churn"] = churn.ToString(CultureInfo.InvariantCulture) },
        },
        ["status"] = new JsonObject
        {
            ["podIP"] = ip,
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
        },
    };
}
