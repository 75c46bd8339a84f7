using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using System.Text.Json;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary>Each command on the reference page's YAML, the batch contract, exit codes and error output.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    private static string[] Files(string dr, string vs) =>
        ["-f", Data("pods.yaml"), "-f", Data("reference/service.yaml"), "-f", Data($"reference/{dr}"), "-f", Data($"reference/{vs}")];

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await Cli.RunAsync(args, new CliOutput(stdout, stderr, color: false), TestContext.Current.CancellationToken);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Subsets_PrintsTheReferenceTable_MarkingUnroutableEndpoints()
    {
        var (exit, output, error) = await Run(["subsets", .. Files("dr-default-subset.yaml", "vs-step2.yaml")]);

        Assert.Equal((0, ""), (exit, error));
        Assert.Contains("  stage=dev, version=v1   helloworld-dev-v1-67b6876778-nf7pz 192.168.0.5:5678\n", output, StringComparison.Ordinal);
        Assert.Contains("  stage=prod, version=v3  helloworld-prod-v3-6768bf56f8-x2x9q 192.168.0.6:5678 (not routable), helloworld-prod-v3-6768bf56f8-6bd6h 192.168.0.104:5678\n", output, StringComparison.Ordinal);
        Assert.Contains("  default subset (stage=prod, version=v3): ", output, StringComparison.Ordinal);
        Assert.Contains("  in no subset: none\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subsets_Json_HasSubsetsDefaultAndUnassigned()
    {
        var (exit, output, _) = await Run(["subsets", .. Files("dr-step2.yaml", "vs-step2.yaml"), "-o", "json"]);

        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output);
        var service = doc.RootElement.GetProperty("services")[0];
        Assert.Equal("helloworld.default.svc.cluster.local", service.GetProperty("host").GetString());
        Assert.Equal(5, service.GetProperty("subsets").GetArrayLength());
        var first = service.GetProperty("subsets")[0];
        Assert.Equal("dev", first.GetProperty("pairs").GetProperty("stage").GetString());
        Assert.Equal("192.168.0.5:5678", first.GetProperty("endpoints")[0].GetProperty("address").GetString());
        Assert.True(first.GetProperty("endpoints")[0].GetProperty("routable").GetBoolean());
        Assert.Equal(JsonValueKind.Null, service.GetProperty("defaultSubset").ValueKind);
        Assert.Equal(0, service.GetProperty("unassigned").GetArrayLength());
    }

    [Fact]
    public async Task Resolve_ExplainsCriteriaWithDefaultsMarked_AndTheDecision()
    {
        var (exit, output, _) = await Run(["resolve", .. Files("dr-any-endpoint.yaml", "vs-step2.yaml"), "-H", "x-stage: prod"]);

        Assert.Equal(0, exit);
        Assert.Contains("  x-version  version  v3     default\n", output, StringComparison.Ordinal);
        Assert.Contains("  x-stage    stage    prod   header\n", output, StringComparison.Ordinal);
        Assert.Contains("decision  matched subset stage=prod, version=v3\n", output, StringComparison.Ordinal);
        Assert.Contains("endpoint  192.168.0.104:5678  helloworld-prod-v3-6768bf56f8-6bd6h\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_Count_ShowsEachPick_AndNoHealthyUpstreamIsExplained()
    {
        var (_, many, _) = await Run(["resolve", .. Files("dr-any-endpoint.yaml", "vs-step2.yaml"), "-H", "x-stage: prod", "-H", "x-version: v1", "-n", "4"]);
        var (exit, none, _) = await Run(["resolve", .. Files("dr-no-fallback.yaml", "vs-step2.yaml"), "-H", "x-stage: prod", "-H", "x-version: v1"]);

        Assert.Contains("decision  no subset matched; selector fallback ANY_ENDPOINT\n", many, StringComparison.Ordinal);
        Assert.Equal(4, many.Split('\n').Count(l => l.StartsWith("  #", StringComparison.Ordinal)));
        Assert.Equal(0, exit);
        Assert.Contains("decision  no healthy upstream (selector fallback NO_FALLBACK found no endpoint)\n", none, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_Batch_WritesTheExactJsonContract_InOrder()
    {
        var requests = Path.Combine(_dir, "requests.jsonl");
        await File.WriteAllLinesAsync(requests,
        [
            """{"headers": {"x-stage": "dev", "x-version": "v1"}}""",
            "",
            """{"headers": {"X-Stage": "prod", "x-version": "v1"}}""",
            """{"headers": {"x-stage": "qa", "x-version": ["v", "1"]}}""",
        ], TestContext.Current.CancellationToken);

        var (exit, output, error) = await Run(["resolve", .. Files("dr-no-fallback.yaml", "vs-step2.yaml"), "--requests", requests, "-o", "json"]);
        var (exit2, output2, _) = await Run(["resolve", .. Files("dr-any-endpoint.yaml", "vs-step2.yaml"), "--requests", requests, "-o", "json"]);

        Assert.Equal((0, ""), (exit, error));
        Assert.Equal(
            [
                """{"endpoint":"192.168.0.5:5678","subset":{"stage":"dev","version":"v1"},"fallback":null,"route":"default","destination":{"host":"helloworld.default.svc.cluster.local","subset":null}}""",
                """{"error":"no healthy upstream","route":"default","destination":{"host":"helloworld.default.svc.cluster.local","subset":null}}""",
                """{"error":"no healthy upstream","route":"default","destination":{"host":"helloworld.default.svc.cluster.local","subset":null}}""",
            ],
            output.TrimEnd('\n').Split('\n'));
        Assert.Equal(0, exit2);
        Assert.All(output2.TrimEnd('\n').Split('\n').Skip(1), line => Assert.EndsWith("\",\"subset\":null,\"fallback\":{\"policy\":\"ANY_ENDPOINT\",\"scope\":\"selector\"},\"route\":\"default\",\"destination\":{\"host\":\"helloworld.default.svc.cluster.local\",\"subset\":null}}", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resolve_Batch_WritesIPv6InBrackets()
    {
        var entry = Path.Combine(_dir, "se.yaml");
        await File.WriteAllTextAsync(entry, """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: v6}
            spec:
              hosts: [helloworld.default.svc.cluster.local]
              resolution: STATIC
              ports: [{number: 8000, name: http, targetPort: 5678}]
              endpoints: [{address: 'fd00::6', labels: {stage: prod, version: v3}}]
            """, TestContext.Current.CancellationToken);
        var requests = Path.Combine(_dir, "r.jsonl");
        await File.WriteAllTextAsync(requests, "{\"headers\": {}}\n", TestContext.Current.CancellationToken);

        var (exit, output, _) = await Run(["resolve", "-f", entry, "-f", Data("reference/dr-step2.yaml"), "-f", Data("reference/vs-step2.yaml"), "--requests", requests, "-o", "json"]);

        Assert.Equal(0, exit);
        Assert.Equal("""{"endpoint":"[fd00::6]:5678","subset":{"stage":"prod","version":"v3"},"fallback":null,"route":"default","destination":{"host":"helloworld.default.svc.cluster.local","subset":null}}""", output.Trim());
    }

    [Theory]
    [InlineData("{\"headers\": 5}", ":1: headers: expected an object of header names to a string or a list of strings")]
    [InlineData("[1]", ":1: expected an object like {\"headers\": {\"name\": \"value\"}, \"path\": \"/\"}")]
    [InlineData("{\"headers\": {\"x-stage\": 1}}", ":1: headers.x-stage: expected a string or a list of strings")]
    [InlineData("not json", ":1: invalid JSON: ")]
    [InlineData("{\"headers\": {}, \"port\": 0}", ":1: port: '0' is not a number from 1 to 65535")]
    [InlineData("{\"headers\": {}, \"path\": \"shop\"}", ":1: path: 'shop' is not a path: it must start with '/'")]
    [InlineData("{\"headers\": {}, \"sourceIp\": \"nowhere\"}", ":1: sourceIp: 'nowhere' is not an IP address")]
    [InlineData("{\"headers\": {}, \"method\": 5}", ":1: method: expected a string, not '5'")]
    public async Task Resolve_Batch_InvalidInput_Exits2WithAMessage(string line, string message)
    {
        var requests = Path.Combine(_dir, "bad.jsonl");
        await File.WriteAllTextAsync(requests, line + "\n", TestContext.Current.CancellationToken);

        var (exit, output, error) = await Run(["resolve", .. Files("dr-step2.yaml", "vs-step2.yaml"), "--requests", requests, "-o", "json"]);

        Assert.Equal((2, ""), (exit, output));
        Assert.StartsWith($"dynsubset: {requests}{message}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_Batch_ALineMayNameItsService()
    {
        var other = Path.Combine(_dir, "other.yaml");
        await File.WriteAllTextAsync(other, """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: other}
            spec:
              hosts: [other.example.com]
              resolution: STATIC
              ports: [{number: 80, name: http}]
              endpoints: [{address: 10.9.0.1}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: other}
            spec: {host: other.example.com}
            """, TestContext.Current.CancellationToken);
        var requests = Path.Combine(_dir, "two.jsonl");
        await File.WriteAllLinesAsync(requests,
        [
            """{"service": "other.example.com"}""",
            """{"service": "helloworld", "headers": {"x-stage": "dev", "x-version": "v1"}}""",
        ], TestContext.Current.CancellationToken);
        string[] files = [.. Files("dr-step2.yaml", "vs-step2.yaml"), "-f", other];

        var (exit, output, error) = await Run(["resolve", .. files, "--requests", requests, "-o", "json"]);
        var lines = output.TrimEnd('\n').Split('\n');

        Assert.Equal((0, ""), (exit, error));
        Assert.StartsWith("""{"endpoint":"10.9.0.1:80",""", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"subset\":{\"stage\":\"dev\",\"version\":\"v1\"}", lines[1], StringComparison.Ordinal);

        // An unknown service is the line's error, and nothing is written.
        await File.AppendAllTextAsync(requests, """{"service": "nosuch"}""" + "\n", TestContext.Current.CancellationToken);
        (exit, output, error) = await Run(["resolve", .. files, "--requests", requests, "-o", "json"]);
        Assert.Equal((2, ""), (exit, output));
        Assert.StartsWith($"dynsubset: {requests}:3: service: no service 'nosuch' in the files", error, StringComparison.Ordinal);
    }

    private const string RoutedMesh = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: helloworld}
        spec:
          host: helloworld
          trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
          subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: helloworld}
        spec:
          hosts: [helloworld]
          http:
            - name: admin
              match: [{uri: {prefix: /admin}, method: {exact: POST}}]
              route: [{destination: {host: helloworld, subset: v1}}]
            - match: [{headers: {x-canary: {exact: "yes"}}}, {queryParams: {beta: {exact: "1"}}}]
              route: [{destination: {host: helloworld, subset: v2}}]
            - match: [{uri: {exact: /}}]
              route: [{destination: {host: helloworld}}]
        """;

    [Fact]
    public async Task Resolve_Batch_RoutesByMethodPathAndHeaders_WithRouteAndDestination()
    {
        var mesh = Path.Combine(_dir, "routes.yaml");
        await File.WriteAllTextAsync(mesh, RoutedMesh, TestContext.Current.CancellationToken);
        var requests = Path.Combine(_dir, "routes.jsonl");
        await File.WriteAllLinesAsync(requests,
        [
            """{"headers": {}, "method": "POST", "path": "/admin/users"}""",
            """{"headers": {}, "path": "/shop?beta=1"}""",
            """{"headers": {"x-user": "jason"}, "path": "/"}""",
            """{"headers": {}, "method": "GET", "path": "/admin"}""",
        ], TestContext.Current.CancellationToken);

        var (exit, output, error) = await Run(["resolve", "-f", Data("pods.yaml"), "-f", Data("reference/service.yaml"), "-f", mesh, "--requests", requests, "-o", "json"]);

        Assert.Equal((0, ""), (exit, error));
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal("""{"endpoint":"192.168.0.5:5678","subset":null,"fallback":null,"route":"admin","destination":{"host":"helloworld.default.svc.cluster.local","subset":"v1"}}""", lines[0]);
        Assert.EndsWith(""","route":"1","destination":{"host":"helloworld.default.svc.cluster.local","subset":"v2"}}""", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(""","route":"2","destination":{"host":"helloworld.default.svc.cluster.local","subset":null}}""", lines[2], StringComparison.Ordinal);
        Assert.Equal("""{"error":"no route"}""", lines[3]);
    }

    [Fact]
    public async Task Resolve_AVirtualServiceWithoutDestinationRule_RoutesToEveryEndpoint()
    {
        var vs = Path.Combine(_dir, "vs-only.yaml");
        await File.WriteAllTextAsync(vs, """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: helloworld}
            spec:
              hosts: [helloworld]
              http: [{route: [{destination: {host: helloworld}}]}]
            """, TestContext.Current.CancellationToken);

        var (exit, output, error) = await Run(["resolve", "-f", Data("pods.yaml"), "-f", Data("reference/service.yaml"), "-f", vs, "-n", "3"]);

        Assert.Equal((0, ""), (exit, error));
        Assert.Contains("decision  no dynamicSubset: any routable endpoint\n", output, StringComparison.Ordinal);
        Assert.Equal(3, output.Split('\n').Count(l => l.StartsWith("  #", StringComparison.Ordinal)));

        var (_, subsets, _) = await Run(["subsets", "-f", Data("pods.yaml"), "-f", Data("reference/service.yaml"), "-f", vs]);
        Assert.Contains("  no dynamicSubset: every routable endpoint   load balancer: LEAST_REQUEST\n", subsets, StringComparison.Ordinal);
        Assert.Contains("helloworld-dev-v1-67b6876778-nf7pz 192.168.0.5:5678", subsets, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_ExplainsWhichRouteMatched_AndWhyEarlierOnesDidNot()
    {
        var mesh = Path.Combine(_dir, "routes.yaml");
        await File.WriteAllTextAsync(mesh, RoutedMesh, TestContext.Current.CancellationToken);

        var (exit, output, _) = await Run(["resolve", "-f", Data("pods.yaml"), "-f", Data("reference/service.yaml"), "-f", mesh, "--path", "/shop?beta=1", "-X", "GET", "-H", "x-canary: no"]);
        var (_, none, _) = await Run(["resolve", "-f", Data("pods.yaml"), "-f", Data("reference/service.yaml"), "-f", mesh, "--path", "/other"]);

        Assert.Equal(0, exit);
        Assert.Contains("request   GET /shop?beta=1\n", output, StringComparison.Ordinal);
        Assert.Contains("  admin  no       uri prefix '/admin' does not match '/shop'\n", output, StringComparison.Ordinal);
        Assert.Contains("  1      yes      match[1] holds: query beta exact '1'\n", output, StringComparison.Ordinal);
        Assert.Contains("route     1 -> helloworld.default.svc.cluster.local subset v2\n", output, StringComparison.Ordinal);
        Assert.Contains("service   helloworld.default.svc.cluster.local/v2\n", output, StringComparison.Ordinal);
        Assert.Contains("hashing   httpHeaderName x-user (ringHash 1024)\n", output, StringComparison.Ordinal);
        Assert.Contains("  2      no       uri exact '/' does not match '/other'\n", none, StringComparison.Ordinal);
        Assert.Contains("decision  no route: 404\n", none, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_SeveralServices_NeedHost_AndHostPicksOne()
    {
        var other = Path.Combine(_dir, "other.yaml");
        await File.WriteAllTextAsync(other, File.ReadAllText(Data("reference/dr-step2.yaml")).Replace("host: helloworld.default", "host: other.default", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var (exit, _, error) = await Run(["resolve", "-f", Data("reference/dr-step2.yaml"), "-f", other, "-H", "x: y"]);
        var (picked, output, _) = await Run(["resolve", "-f", Data("reference/dr-step2.yaml"), "-f", other, "--host", "other", "-H", "x: y"]);

        Assert.Equal(2, exit);
        Assert.Equal("dynsubset: the files hold several services (helloworld.default.svc.cluster.local, other.default.svc.cluster.local); pick one with --host, or name it in each request's \"service\"\n", error);
        Assert.Equal(0, picked);
        Assert.StartsWith("service   other.default.svc.cluster.local\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_EveryIstioHttpFieldWeCarryOut_IsNeitherWarnedNorIgnored()
    {
        // Route actions, delegate, sourceLabels, connectionPool (limits and connections), portLevelSettings,
        // localityLbSetting (failover, failoverPriority, distribute), outlierDetection, a WorkloadEntry's locality.
        var (exit, output, error) = await Run("validate", "-f", Data("every-http-field.yaml"));

        Assert.Equal((0, "", "valid: 3 service(s); 0 warning(s), 0 note(s)\n"), (exit, error, output));
    }

    [Fact]
    public async Task Validate_ValidWithWarnings_Exits0_AndPrintsPositions()
    {
        var (exit, output, _) = await Run(["validate", "-f", Data("reference/dr-step4-ip.yaml"), "-f", Data("reference/vs-step4-ip.yaml"), "-f", Data("reference/sleep.yaml")]);

        Assert.Equal(0, exit);
        Assert.Contains($"{Data("reference/dr-step4-ip.yaml")}:11:9: warning DSR2006: spec.trafficPolicy.loadBalancer.dynamicSubset.defaultSubset: no fallbackPolicy is DEFAULT_SUBSET, so defaultSubset is never used\n", output, StringComparison.Ordinal);
        Assert.Contains("note DSR3001: skipped Deployment (apps/v1) 'sleep'", output, StringComparison.Ordinal);
        Assert.EndsWith("valid: 1 service(s); 1 warning(s), 1 note(s)\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokenFile_Validate_And_Resolve_Exit2_WithFileLineColumn_AndNoStackTrace()
    {
        var bad = Path.Combine(_dir, "helloworld.yaml");
        await File.WriteAllTextAsync(bad, File.ReadAllText(Data("reference/dr-no-fallback.yaml")).Replace("NO_FALLBACK", "ANY", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var (exit, output, _) = await Run(["validate", "-f", bad]);
        var (exit2, output2, error2) = await Run(["resolve", "-f", bad, "-H", "x-stage: dev"]);

        var expected = $"{bad}:12:29: error DSR1004: spec.trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackPolicy: unknown value 'ANY' (expected NO_FALLBACK, ANY_ENDPOINT, DEFAULT_SUBSET, KEYS_SUBSET)";
        Assert.Equal(2, exit);
        Assert.StartsWith(expected + "\n", output, StringComparison.Ordinal);
        Assert.Equal((2, ""), (exit2, output2));
        Assert.Equal(expected + "\n", error2);
    }

    [Theory]
    [InlineData(new[] { "bogus" }, "dynsubset: Unrecognized command or argument 'bogus'.")]
    [InlineData(new[] { "resolve", "-H", "x: y" }, "dynsubset: Option '--file' is required.")]
    [InlineData(new[] { "subsets", "-f", "x.yaml", "-o", "xml" }, "dynsubset: Argument 'xml' not recognized. Must be one of:")]
    [InlineData(new[] { "serve", "-f", "x.yaml", "--listen", "localhost" }, "dynsubset: 'localhost' is not an address like http://127.0.0.1:8080")]
    [InlineData(new[] { "serve", "-f", "x.yaml", "--listen", "http://127.0.0.1:8080", "--source-labels", "role" }, "dynsubset: 'role' is not a label like app=gateway")]
    [InlineData(new[] { "serve", "-f", "x.yaml", "--listen", "http://127.0.0.1:8080", "--locality", "a/b/c/d" }, "dynsubset: --locality: 'a/b/c/d' is not a locality; expected region, region/zone or region/zone/subzone")]
    [InlineData(new[] { "serve", "-f", "x.yaml", "--listen", "http://999.0.0.1:8080" }, "dynsubset: 'http://999.0.0.1:8080' is not an address like http://127.0.0.1:8080, h2c://127.0.0.1:8081 or https://127.0.0.1:8443 (an IP address or localhost, and a port)")]
    [InlineData(new[] { "serve", "-f", "x.yaml", "--listen", "http://gateway.example:8080" }, "dynsubset: 'http://gateway.example:8080' is not an address like http://127.0.0.1:8080")]
    [InlineData(new[] { "serve", "-f", "x.yaml", "--listen", "http://127.0.0.1:8080", "--per-try-timeout", "soon" }, "dynsubset: 'soon' is not a duration like 15s, 500ms or 1m")]
    [InlineData(new[] { "serve", "-f", "x.yaml", "--listen", "http://127.0.0.1:8080", "--trusted-network", "10.0.0.0/33" }, "dynsubset: '10.0.0.0/33' is not a network like 10.0.0.0/8 or 127.0.0.1/32")]
    public async Task Usage_Errors_Exit2(string[] args, string message)
    {
        var (exit, _, error) = await Run(args);

        Assert.Equal(2, exit);
        Assert.Contains("\n" + message, "\n" + error, StringComparison.Ordinal);
        Assert.EndsWith("Run 'dynsubset --help' for usage.\n", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_ForwardsByHost_ServesTheDebugView_AndStopsGracefully()
    {
        // Backends that answer with their own address: a ServiceEntry puts them behind helloworld.
        await using var backends = await Backends.StartAsync(["127.0.7.11", "127.0.7.12"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await File.WriteAllTextAsync(entry, $$$"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: helloworld-vms}
            spec:
              hosts: [helloworld.default.svc.cluster.local]
              resolution: STATIC
              ports: [{number: 8000, name: http, targetPort: {{{backends.Port}}}}]
              endpoints:
                - {address: 127.0.7.11, labels: {stage: dev, version: v1}}
                - {address: 127.0.7.12, labels: {stage: prod, version: v3}}
            """, TestContext.Current.CancellationToken);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<(Uri Gateway, Uri? Admin)>();
        var run = Serve.RunAsync(
            new CliOutput(stdout, stderr, color: false),
            [entry, Data("reference/dr-step2.yaml"), Data("reference/vs-step2.yaml")],
            new Uri("http://127.0.7.1:0"),
            new Uri("http://127.0.7.1:0"),
            ServeSettings.Default,
            stop.Token,
            (gateway, admin) => started.TrySetResult((gateway, admin)));
        var (gatewayUrl, adminUrl) = await started.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, gatewayUrl);
        request.Headers.Host = "helloworld:8000";
        request.Headers.Add("x-stage", "dev");
        request.Headers.Add("x-version", "v1");
        var body = await (await client.SendAsync(request, TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var debug = await client.GetStringAsync(new Uri(adminUrl!, "/debug/dynamic-subsets"), TestContext.Current.CancellationToken);
        using var onTraffic = await client.GetAsync(new Uri(gatewayUrl, "/debug/dynamic-subsets"), TestContext.Current.CancellationToken);

        await stop.CancelAsync();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.Equal("127.0.7.11 host=helloworld:8000", body);
        Assert.Contains("\"stage=dev, version=v1\"", debug, StringComparison.Ordinal);
        Assert.Equal(0, exit);
        Assert.StartsWith($"dynsubset gateway listening on {gatewayUrl} for helloworld.default.svc.cluster.local (configuration version 1, at most ", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains($"; admin page on {new Uri(adminUrl!, "/debug/dynamic-subsets/ui")}\n", stdout.ToString(), StringComparison.Ordinal);
        // The admin view is never on the traffic listener: there, the path is forwarded to a backend like any other.
        Assert.Equal("127.0.7.12 host=" + gatewayUrl.Authority, await onTraffic.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.NotEqual(gatewayUrl.Port, adminUrl!.Port);
        Assert.EndsWith("dynsubset gateway stopping\n", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_AsARealProcess_StopsGracefullyOnSigterm()
    {
        await using var backends = await Backends.StartAsync(["127.0.7.21"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.21, labels: {stage: dev, version: v1}}");
        var cli = Path.Combine(AppContext.BaseDirectory, "dynsubset.dll");
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            ArgumentList = { cli, "serve", "-f", entry, "-f", Data("reference/dr-step2.yaml"), "-f", Data("reference/vs-step2.yaml"), "--listen", "http://127.0.7.2:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var firstLine = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken);
            var listening = System.Text.RegularExpressions.Regex.Match(firstLine!, @"^dynsubset gateway listening on (http://127\.0\.7\.2:\d+/) ");
            Assert.True(listening.Success, firstLine);
            var url = new Uri(listening.Groups[1].Value);
            using var client = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("x-stage", "dev");
            request.Headers.Add("x-version", "v1");
            Assert.Equal($"127.0.7.21 host={url.Authority}", await (await client.SendAsync(request, TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
            }

            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("dynsubset gateway stopping", await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public async Task Serve_WithInvalidFiles_Exits2BeforeListening()
    {
        var bad = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(bad, "kind: DestinationRule\napiVersion: networking.istio.io/v1\nmetadata: {name: x}\nspec: {}\n", TestContext.Current.CancellationToken);

        var (exit, _, error) = await Run("serve", "-f", bad, "--listen", "http://127.0.7.1:0");

        Assert.Equal(2, exit);
        Assert.Equal($"{bad}:4:7: error DSR1003: spec.host: required field is missing\n", error);
    }

    [Fact]
    public async Task Demo_RunsTheWalkthroughOverRealHttp_EveryStepExpected()
    {
        // Port 0: the test must not depend on the reference page's port 5678 being free on this machine.
        var (exit, output, error) = await Run("demo", "--port", "0");

        Assert.Equal((0, ""), (exit, error));
        Assert.Contains("  Welcome to helloworld stage: dev, version: v1, ip: 127.0.0.11\n    expected\n", output, StringComparison.Ordinal);
        Assert.Contains("  Welcome to helloworld stage: prod, version: v3, ip: 127.0.0.16\n    expected\n", output, StringComparison.Ordinal);
        Assert.Contains("  no healthy upstream\n    expected\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("NOT expected", output, StringComparison.Ordinal);
        Assert.EndsWith("All 10 requests as expected.\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_ExplainsWhatTheMatchedRouteDoes_AndARoutesOwnAnswer()
    {
        var dir = Directory.CreateTempSubdirectory("dsr-actions-cli-").FullName;
        var mesh = Path.Combine(dir, "mesh.yaml");
        File.WriteAllText(mesh, """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: app, namespace: default}
            spec: {host: app.default.svc.cluster.local}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: app, namespace: default}
            spec: {hosts: [app.default.svc.cluster.local], ports: [{number: 80, name: http}], resolution: STATIC, endpoints: [{address: 10.0.0.1}]}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: app, namespace: default}
            spec:
              hosts: [app]
              http:
                - name: moved
                  match: [{uri: {prefix: /moved}}]
                  redirect: {uri: /new, authority: example.com}
                - name: teapot
                  match: [{uri: {prefix: /tea}}]
                  directResponse: {status: 418, body: {string: short}}
                - name: flaky
                  match: [{uri: {prefix: /api/}}]
                  rewrite: {uri: /v2/}
                  fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
                  route: [{destination: {host: app}}]
            """);
        try
        {
            var (_, redirect, _) = await Run(["resolve", "-f", mesh, "--host", "app", "--path", "/moved/a?x=1"]);
            Assert.Contains("match[0] holds: uri prefix '/moved'; then redirect 301 to example.com /new", redirect, StringComparison.Ordinal);
            Assert.Contains("decision  answered by the route: redirect 301 to http://example.com/new?x=1", redirect, StringComparison.Ordinal);

            var (_, direct, _) = await Run(["resolve", "-f", mesh, "--host", "app", "--path", "/tea"]);
            Assert.Contains("decision  answered by the route: direct response 418", direct, StringComparison.Ordinal);

            var (exit, routed, _) = await Run(["resolve", "-f", mesh, "--host", "app", "--path", "/api/items"]);
            Assert.Equal(0, exit);
            Assert.Contains("then fault abort HTTP 503 (10%), rewrite uri to /v2/", routed, StringComparison.Ordinal);
            Assert.Contains("endpoint  10.0.0.1:80", routed, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Tiny Kestrel backends that answer with their address and the Host header they saw, all on one free port.</summary>
internal sealed class Backends : IAsyncDisposable
{
    private readonly List<Microsoft.AspNetCore.Builder.WebApplication> _apps;

    private readonly System.Runtime.CompilerServices.StrongBox<int> _slow;

    private Backends(List<Microsoft.AspNetCore.Builder.WebApplication> apps, int port, System.Runtime.CompilerServices.StrongBox<int> slow)
    {
        _apps = apps;
        Port = port;
        _slow = slow;
    }

    public int Port { get; }

    /// <summary>Gets how many <c>/slow</c> requests the backends are answering now.</summary>
    public int SlowInFlight => Volatile.Read(ref _slow.Value);

    /// <summary>
    /// Writes the ServiceEntry that the serve tests route through: helloworld on port 8000 to these backends' port, with
    /// the given endpoints (YAML flow mappings) and any further documents after it.
    /// </summary>
    public Task WriteServiceEntryAsync(string path, string endpoints, string? more = null) => File.WriteAllTextAsync(path, $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: vm}
        spec:
          hosts: [helloworld.default.svc.cluster.local]
          resolution: STATIC
          ports: [{number: 8000, name: http, targetPort: {{Port}}}]
          endpoints: [{{endpoints}}]
        {{more}}
        """, TestContext.Current.CancellationToken);

    public static async Task<Backends> StartAsync(string[] ips)
    {
        // The first takes a port the system gives; the others share it on their own addresses. Should one of them
        // find it taken there, all start again on another.
        for (var attempt = 0; ; attempt++)
        {
            var apps = new List<Microsoft.AspNetCore.Builder.WebApplication>();
            var port = 0;
            var slow = new System.Runtime.CompilerServices.StrongBox<int>();
            try
            {
                foreach (var ip in ips)
                {
                    var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
                    builder.WebHost.UseUrls($"http://{ip}:{port}");
                    builder.Logging.ClearProviders();
                    var app = builder.Build();
                    apps.Add(app);
                    app.Map("/slow", async (Microsoft.AspNetCore.Http.HttpContext c) =>
                    {
                        Interlocked.Increment(ref slow.Value);
                        try
                        {
                            await Task.Delay(TimeSpan.FromSeconds(1.5), c.RequestAborted);
                        }
                        finally
                        {
                            Interlocked.Decrement(ref slow.Value);
                        }

                        return $"{ip} slow";
                    });
                    app.Map("/{**rest}", (Microsoft.AspNetCore.Http.HttpContext c) => $"{ip} host={c.Request.Host}");
                    await app.StartAsync();
                    port = new Uri(app.Urls.First()).Port;
                }

                return new Backends(apps, port, slow);
            }
            catch (IOException) when (attempt < 4)
            {
                foreach (var app in apps)
                {
                    await app.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Kills one backend: its open connections are cut and new ones refused.</summary>
    public async Task KillAsync(int index)
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        try
        {
            await _apps[index].StopAsync(now.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }
}
