using System.Net;
using System.Text.Json.Nodes;
using DynamicSubset.Routing.Http.Tests;
using DynamicSubset.Routing.Kubernetes.Tests;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary><c>dynsubset subsets --kubernetes</c> and <c>serve --kubernetes</c> against the stand-in API server, through a kubeconfig.</summary>
public sealed class ClusterCliTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-kcli-").FullName;
    private FakeApiServer _api = null!;
    private Helloworld _pods = null!;

    private string Kubeconfig => Path.Combine(_dir, "kubeconfig");

    public async ValueTask InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync("127.0.37.3");
        _pods = await Helloworld.StartAsync(block: 32);
        foreach (var pod in _pods.Pods)
        {
            _api.Put("pods", JsonNode.Parse($$$"""
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "{{{pod.Name}}}", "namespace": "default", "labels": {"app": "helloworld", "stage": "{{{pod.Stage}}}", "version": "{{{pod.Version}}}"}},
                 "spec": {"containers": [{"name": "helloworld", "ports": [{"containerPort": 5678}]}]},
                 "status": {"podIP": "{{{pod.Ip}}}", "conditions": [{"type": "Ready", "status": "True"}]}}
                """)!.AsObject());
        }

        _api.Put("services", JsonNode.Parse("""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"selector": {"app": "helloworld"}, "ports": [{"name": "http", "port": 8000, "targetPort": 5678}]}}
            """)!.AsObject());
        _api.Put("destinationrules", JsonNode.Parse("""
            {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"host": "helloworld.default.svc.cluster.local", "trafficPolicy": {"loadBalancer": {"dynamicSubset": {"subsetSelectors": [{"keys": ["stage", "version"]}]}}}}}
            """)!.AsObject());
        _api.Put("virtualservices", JsonNode.Parse("""
            {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "helloworld", "namespace": "default"},
             "spec": {"hosts": ["helloworld.default.svc.cluster.local"], "http": [{"headerToDynamicSubsetKey": [{"header": "x-version", "key": "version", "defaultValue": "v3"}, {"header": "x-stage", "key": "stage", "defaultValue": "prod"}],
               "route": [{"destination": {"host": "helloworld.default.svc.cluster.local", "port": {"number": 8000}}}]}]}}
            """)!.AsObject());
        await File.WriteAllTextAsync(Kubeconfig, $$$"""
            apiVersion: v1
            kind: Config
            clusters: [{name: standin, cluster: {server: "{{{_api.Address.ToString().TrimEnd('/')}}}"}}]
            contexts: [{name: standin, context: {cluster: standin, user: nobody, namespace: default}}]
            users: [{name: nobody, user: {token: stand-in}}]
            current-context: standin
            """, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _pods.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Subsets_FromTheCluster_PrintsAsTheFileModeDoes()
    {
        var stdout = new StringWriter();
        var exit = await Cli.RunAsync(["subsets", "--kubernetes", "--kubeconfig", Kubeconfig, "--namespace", "default"], new CliOutput(stdout, new StringWriter(), color: false), TestContext.Current.CancellationToken);

        Assert.Equal(0, exit);
        Assert.StartsWith("helloworld.default.svc.cluster.local\n  selectors: {stage, version}   fallback: NO_FALLBACK   load balancer: LEAST_REQUEST\n", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("stage=prod, version=v3  prod-v3-a 127.0.32.15:5678, prod-v3-b 127.0.32.16:5678", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_AgainstTheCluster_AppliesTheFilesOverTheLiveObjects_AndWritesNothing()
    {
        // The edit: the live DestinationRule (NO_FALLBACK by default) with ANY_ENDPOINT, and a pod that is not in the cluster.
        var edit = Path.Combine(_dir, "edit.yaml");
        await File.WriteAllTextAsync(edit, """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: helloworld, namespace: default}
            spec:
              host: helloworld.default.svc.cluster.local
              trafficPolicy: {loadBalancer: {dynamicSubset: {subsetSelectors: [{keys: [stage, version], fallbackPolicy: ANY_ENDPOINT}]}}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: canary, namespace: default, labels: {app: helloworld, stage: dev, version: v4}}
            status: {podIP: 127.0.32.20, conditions: [{type: Ready, status: "True"}]}
            """, TestContext.Current.CancellationToken);
        var requests = Path.Combine(_dir, "requests.jsonl");
        await File.WriteAllLinesAsync(requests, [
            """{"headers": {"x-stage": "dev", "x-version": "v1"}}""",
            """{"headers": {"x-stage": "test", "x-version": "v1"}}""",
            """{"headers": {"x-stage": "dev", "x-version": "v4"}}""",
        ], TestContext.Current.CancellationToken);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await Cli.RunAsync(["diff", "--kubernetes", "--kubeconfig", Kubeconfig, "--namespace", "default", "--after", edit, "--requests", requests, "-o", "json"],
            new CliOutput(stdout, stderr, color: false), TestContext.Current.CancellationToken);

        Assert.Equal((1, ""), (exit, stderr.ToString()));
        var service = System.Text.Json.JsonDocument.Parse(stdout.ToString()).RootElement.GetProperty("services").EnumerateArray().Single();
        Assert.Equal(["[stage, version] -> [stage, version] fallback ANY_ENDPOINT"],
            service.GetProperty("policy").EnumerateArray().Select(static p => p.GetString()!["subsetSelectors: ".Length..]));
        Assert.Equal("v4", service.GetProperty("subsets").GetProperty("added")[0].GetProperty("subset").GetProperty("version").GetString());
        var transitions = service.GetProperty("requests").GetProperty("transitions").EnumerateArray()
            .Select(static t => (t.GetProperty("from").GetString(), t.GetProperty("to").GetString(), t.GetProperty("count").GetInt32())).ToList();
        Assert.Equal([("no healthy upstream", "fallback ANY_ENDPOINT", 1), ("no healthy upstream", "stage=dev, version=v4", 1)], transitions);

        // Nothing was written to the cluster: the live rule is as it was.
        Assert.DoesNotContain("ANY_ENDPOINT", _api.Get("destinationrules", "default", "helloworld").ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_FromTheCluster_ReadyzIs503UntilTheFirstSync_Then200()
    {
        _api.Unavailable = true; // unreachable at start
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cluster = new ClusterSettings(Kubeconfig, null, ["default"]);
        var stdout = new StringWriter();
        var output = new CliOutput(stdout, new StringWriter(), color: false);
        var serve = Serve.RunAsync(output, _ => Task.FromResult(cluster.Create(output)), new Uri("http://127.0.37.10:0"), new Uri("http://127.0.37.11:0"), ServeSettings.Default, stop.Token,
            (g, a) => started.TrySetResult((g, a)), ClusterSettings.WaitForSyncAsync);
        using var probe = new HttpClient();
        try
        {
            var admin = await Eventually(() => System.Text.RegularExpressions.Regex.Match(Read(stdout), @"admin listening on (\S+); waiting for the first sync") is { Success: true } m ? new Uri(m.Groups[1].Value) : null);
            using (var response = await probe.GetAsync(new Uri(admin, "/readyz"), TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.StartsWith("not ready: ", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
            }

            Assert.False(started.Task.IsCompleted); // the gateway does not listen before the first sync

            _api.Unavailable = false;
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            using (var response = await probe.GetAsync(new Uri(admin, "/readyz"), TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        static string Read(StringWriter writer)
        {
            lock (writer)
            {
                return writer.ToString();
            }
        }
    }

    private static async Task<T> Eventually<T>(Func<T?> read)
        where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        T? found;
        while ((found = read()) is null)
        {
            await Task.Delay(10, timeout.Token);
        }

        return found;
    }

    [Fact]
    public async Task Serve_FromTheCluster_RoutesAndFollowsARelabel()
    {
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cluster = new ClusterSettings(Kubeconfig, null, ["default"]);
        var output = new CliOutput(new StringWriter(), new StringWriter(), color: false);
        var serve = Serve.RunAsync(output, ct => cluster.ConnectAsync(output, ct), new Uri("http://127.0.37.4:0"), null, ServeSettings.Default, stop.Token, (g, a) => started.TrySetResult((g, a)));
        var (gateway, _) = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        using var client = new HttpClient();

        async Task<string> Get(string stage, string version)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
            request.Headers.Host = "helloworld";
            request.Headers.Add("x-stage", stage);
            request.Headers.Add("x-version", version);
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        }

        try
        {
            Assert.Equal(_pods["dev-v1"].Greeting, await Get("dev", "v1"));
            var relabelled = _api.Get("pods", "default", "dev-v1");
            relabelled["metadata"]!["labels"]!["version"] = "v4";
            _api.Put("pods", relabelled);
            var deadline = Environment.TickCount64 + 15_000;
            while (await Get("dev", "v4") != _pods["dev-v1"].Greeting)
            {
                Assert.True(Environment.TickCount64 < deadline, "the relabel did not arrive");
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task ClusterUnreachable_IsOneLine_AndExit2()
    {
        await _api.StopAsync();
        var stderr = new StringWriter();
        var before = ClusterSettings.SyncTimeout;

        var exit = await Cli.RunAsync(["subsets", "--kubernetes", "--kubeconfig", Path.Combine(_dir, "missing")], new CliOutput(new StringWriter(), stderr, color: false), TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.StartsWith("dynsubset: cannot read the kubeconfig: ", stderr.ToString().Split('\n')[^2], StringComparison.Ordinal);
        _ = before;
    }

    [Theory]
    [InlineData(new[] { "subsets", "-f", "x.yaml", "--kubernetes" }, "dynsubset: --file and --kubernetes cannot be used together")]
    [InlineData(new[] { "subsets" }, "dynsubset: Option '--file' is required (or --kubernetes).")]
    [InlineData(new[] { "subsets", "-f", "x.yaml", "--namespace", "default" }, "dynsubset: --kubeconfig, --context and --namespace go with --kubernetes")]
    public async Task SourceOptions_Misused_AreUsageErrors(string[] args, string message)
    {
        var stderr = new StringWriter();

        var exit = await Cli.RunAsync(args, new CliOutput(new StringWriter(), stderr, color: false), TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.StartsWith(message + "\n", stderr.ToString(), StringComparison.Ordinal);
    }
}
