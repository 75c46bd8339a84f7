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
/// flip) runs from a <c>churn</c> line on standard input to a <c>stop</c> line.</item>
/// </list>
/// The server's address goes to <c>--kubeconfig FILE</c> as a kubeconfig, and to standard output as <c>listening URL</c>.
/// When the churn ends (a <c>stop</c> line, SIGTERM or SIGINT) it prints <c>changes: N</c>.
/// </summary>
internal static class StandInCluster
{
    public static async Task<int> RunAsync(string[] args)
    {
        var ip = "127.0.40.40";
        string? kubeconfig = null;
        var rate = 100;
        var synthetic = 0;
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
            PutSynthetic(api, synthetic);
            var random = new Random(7);
            change = _ => SyntheticPod(random.Next(synthetic), version: random.Next(5), ready: random.Next(10) != 0);
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
        // One change per tick; a PeriodicTimer keeps the rate without drifting.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / rate));
        long changes = 0;
        try
        {
            if (synthetic > 0)
            {
                await UntilLine("churn", stop.Token);
                _ = Task.Run(async () =>
                {
                    await UntilLine("stop", stop.Token);
                    await stop.CancelAsync();
                });
            }

            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                api.Put("pods", change(changes));
                changes++;
            }
        }
        catch (OperationCanceledException)
        {
        }

        Console.WriteLine($"changes: {changes}");
        return 0;
    }

    /// <summary>Reads standard input up to the line <paramref name="expected"/>, or its end.</summary>
    private static async Task UntilLine(string expected, CancellationToken cancellationToken)
    {
        while (await Console.In.ReadLineAsync(cancellationToken) is { } line && line != expected)
        {
        }
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

    private static void PutSynthetic(FakeApiServer api, int pods)
    {
        for (var i = 0; i < pods; i++)
        {
            api.Put("pods", SyntheticPod(i, version: i % 5, ready: true));
        }

        var warm = SyntheticPod(pods, version: 0, ready: true);
        warm["metadata"]!["namespace"] = "warm-up";
        api.Put("pods", warm);
        api.Put("services", JsonNode.Parse("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","namespace":"default"},"spec":{"selector":{"app":"svc"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}""")!.AsObject());
        api.Put("destinationrules", JsonNode.Parse("""{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"svc","namespace":"default"},"spec":{"host":"svc.default.svc.cluster.local","trafficPolicy":{"loadBalancer":{"dynamicSubset":{"subsetSelectors":[{"keys":["stage","version"]},{"keys":["%ip%"]}]}}}}}""")!.AsObject());
        api.Put("virtualservices", JsonNode.Parse("""{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"svc","namespace":"default"},"spec":{"hosts":["svc.default.svc.cluster.local"],"http":[{"headerToDynamicSubsetKey":[{"header":"x-version","key":"version"},{"header":"x-stage","key":"stage"},{"header":"x-ip","key":"%ip%"}],"route":[{"destination":{"host":"svc.default.svc.cluster.local"}}]}]}}""")!.AsObject());
    }

    /// <summary>The synthetic cluster's pod <paramref name="i"/>: its own IP, stage s0 to s2 by index, the given version.</summary>
    public static JsonObject SyntheticPod(int i, int version, bool ready) => new()
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
