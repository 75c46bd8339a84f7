using System.Text.Json;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary>
/// <c>dynsubset diff</c> on the reference page's YAML: each kind of edit, checked against routing every request under
/// each side with the batch contract (<c>resolve --requests -o json</c>), which serving shares.
/// </summary>
public sealed class DiffTests : IDisposable
{
    private static readonly string Reference = Path.Combine(AppContext.BaseDirectory, "TestData", "reference");
    private static readonly string Pods = Path.Combine(AppContext.BaseDirectory, "TestData", "pods.yaml");
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-diff-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Every combination of stage and version headers (absent too), and two paths.</summary>
    private static IEnumerable<string> Requests()
    {
        foreach (var stage in new[] { "dev", "prod", "test", null })
        {
            foreach (var version in new[] { "v1", "v2", "v3", "v4", null })
            {
                var headers = new Dictionary<string, string>();
                if (stage is not null)
                {
                    headers["x-stage"] = stage;
                }

                if (version is not null)
                {
                    headers["x-version"] = version;
                }

                foreach (var path in new[] { "/", "/admin/users" })
                {
                    yield return JsonSerializer.Serialize(new { headers, path });
                }
            }
        }
    }

    public static TheoryData<string, Func<string, string>, Func<string, string>, Func<string, string>, Func<string, string>, bool> Edits => new()
    {
        { "fallback policy", same => same, static dr => dr.Replace("NO_FALLBACK", "ANY_ENDPOINT", StringComparison.Ordinal), same => same, same => same, true },
        { "defaultValue", same => same, same => same, static vs => vs.Replace("defaultValue: v3", "defaultValue: v2", StringComparison.Ordinal), same => same, true },
        { "relabelled pod", same => same, same => same, same => same, static pods => pods.Replace("      version: v1\n      pod-template-hash: 67b6876778", "      version: v2\n      pod-template-hash: 67b6876778", StringComparison.Ordinal), true },
        // The page's VirtualService maps both keys with defaults, so a [stage] selector forms subsets no request reaches.
        { "new selector", same => same, static dr => dr.Replace("subsetSelectors:\n", "subsetSelectors:\n          - keys: [stage]\n", StringComparison.Ordinal), same => same, same => same, false },
        { "reordered route", static vs => WithAdminRoute(vs, adminFirst: true), same => same, static vs => WithAdminRoute(vs, adminFirst: false), same => same, true },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public async Task Diff_CountsTheRequestsThatResolveRoutesDifferently(string edit, Func<string, string> vsBefore, Func<string, string> drAfter, Func<string, string> vsAfter, Func<string, string> podsAfter, bool moves)
    {
        var dr = await File.ReadAllTextAsync(Path.Combine(Reference, "dr-no-fallback.yaml"), TestContext.Current.CancellationToken);
        var vs = await File.ReadAllTextAsync(Path.Combine(Reference, "vs-step2.yaml"), TestContext.Current.CancellationToken);
        var pods = await File.ReadAllTextAsync(Pods, TestContext.Current.CancellationToken);
        var before = await Side("before", dr, vsBefore(vs), pods);
        var after = await Side("after", drAfter(dr), vsAfter(vs), podsAfter(pods));
        var requests = Path.Combine(_dir, "requests.jsonl");
        await File.WriteAllLinesAsync(requests, Requests(), TestContext.Current.CancellationToken);

        // What serving does on each side, request by request: the batch contract's lines, without the endpoint.
        var expected = (await Resolve(before, requests)).Zip(await Resolve(after, requests)).Count(static p => p.First != p.Second);
        var (exit, output, error) = await Run(["diff", "--before", .. before, "--after", .. after, "--requests", requests, "-o", "json"]);

        Assert.True(moves == expected > 0, $"{edit}: {expected} requests resolve differently");
        Assert.Equal((1, ""), (exit, error)); // the topology changes in every case
        var service = JsonDocument.Parse(output).RootElement.GetProperty("services").EnumerateArray().Single();
        Assert.Equal("helloworld.default.svc.cluster.local", service.GetProperty("host").GetString());
        Assert.Equal(Requests().Count(), service.GetProperty("requests").GetProperty("total").GetInt32());
        Assert.Equal(expected, service.GetProperty("requests").GetProperty("moved").GetInt32());
        var transitions = service.GetProperty("requests").GetProperty("transitions").EnumerateArray().ToList();
        Assert.Equal(expected, transitions.Sum(static t => t.GetProperty("count").GetInt32()));
        Assert.All(transitions, static t => Assert.InRange(t.GetProperty("examples").GetArrayLength(), 1, 3));
        Assert.Equal(transitions.Select(static t => t.GetProperty("count").GetInt32()).OrderDescending(), transitions.Select(static t => t.GetProperty("count").GetInt32()));
    }

    [Fact]
    public async Task Diff_RelabelledPod_ShowsTheSubsetsItLeavesAndJoins()
    {
        var pods = await File.ReadAllTextAsync(Pods, TestContext.Current.CancellationToken);
        var dr = await File.ReadAllTextAsync(Path.Combine(Reference, "dr-no-fallback.yaml"), TestContext.Current.CancellationToken);
        var vs = await File.ReadAllTextAsync(Path.Combine(Reference, "vs-step2.yaml"), TestContext.Current.CancellationToken);
        var before = await Side("before", dr, vs, pods);
        var after = await Side("after", dr, vs, pods.Replace("      version: v1\n      pod-template-hash: 67b6876778", "      version: v9\n      pod-template-hash: 67b6876778", StringComparison.Ordinal));

        var (exit, output, _) = await Run(["diff", "--before", .. before, "--after", .. after, "-o", "json"]);

        Assert.Equal(1, exit);
        var subsets = JsonDocument.Parse(output).RootElement.GetProperty("services")[0].GetProperty("subsets");
        var added = subsets.GetProperty("added").EnumerateArray().Single();
        Assert.Equal("v9", added.GetProperty("subset").GetProperty("version").GetString());
        Assert.Equal(["192.168.0.5:5678"], added.GetProperty("endpoints").EnumerateArray().Select(static e => e.GetString()));
        var removed = subsets.GetProperty("removed").EnumerateArray().Single();
        Assert.Equal("v1", removed.GetProperty("subset").GetProperty("version").GetString());
        Assert.Equal(0, subsets.GetProperty("changed").GetArrayLength());
    }

    [Fact]
    public async Task Diff_Weights_MoveTheRouteRequests_AndTheSameWeightsMoveNone()
    {
        var pods = await File.ReadAllTextAsync(Pods, TestContext.Current.CancellationToken);
        var dr = await File.ReadAllTextAsync(Path.Combine(Reference, "dr-no-fallback.yaml"), TestContext.Current.CancellationToken);
        var before = await Side("before", dr + Subsets, Weighted(50, 50), pods);
        var after = await Side("after", dr + Subsets, Weighted(90, 10), pods);
        var requests = Path.Combine(_dir, "requests.jsonl");
        await File.WriteAllLinesAsync(requests, Requests(), TestContext.Current.CancellationToken);

        var (same, sameOutput, sameError) = await Run(["diff", "--before", .. before, "--after", .. before, "--requests", requests]);
        var (exit, output, _) = await Run(["diff", "--before", .. before, "--after", .. after, "--requests", requests]);

        Assert.Equal((0, ""), (same, sameError));
        Assert.EndsWith($"no change: {Requests().Count()} requests, none moved\n", sameOutput, StringComparison.Ordinal);
        Assert.Equal(1, exit);
        Assert.Contains($"{Requests().Count()} of {Requests().Count()} requests move", output, StringComparison.Ordinal);
        Assert.Contains("helloworld.default.svc.cluster.local/v1 50%", output, StringComparison.Ordinal);
        Assert.Contains("helloworld.default.svc.cluster.local/v1 90%", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_OfAConfigurationAgainstItself_Exits0()
    {
        string[] side = [Pods, Path.Combine(Reference, "service.yaml"), Path.Combine(Reference, "dr-step2.yaml"), Path.Combine(Reference, "vs-step2.yaml")];
        var requests = Path.Combine(_dir, "requests.jsonl");
        await File.WriteAllLinesAsync(requests, Requests(), TestContext.Current.CancellationToken);

        var (exit, output, error) = await Run(["diff", "--before", .. side, "--after", .. side, "--requests", requests, "-o", "json"]);

        Assert.Equal((0, ""), (exit, error));
        var service = JsonDocument.Parse(output).RootElement.GetProperty("services").EnumerateArray().Single();
        Assert.Equal(0, service.GetProperty("requests").GetProperty("moved").GetInt32());
        Assert.Equal(0, service.GetProperty("policy").GetArrayLength());
    }

    [Theory]
    [InlineData("{\"headers\": {\"x-stage\": 5}}", ":2: headers.x-stage: expected a string or a list of strings")]
    [InlineData("{\"service\": \"nosuch\"}", "")]
    [InlineData("not json", ":2: invalid JSON: ")]
    public async Task Diff_BadRequestLine_Exits2WithTheLine_AndNoOutput(string line, string message)
    {
        string[] side = [Pods, Path.Combine(Reference, "service.yaml"), Path.Combine(Reference, "dr-step2.yaml"), Path.Combine(Reference, "vs-step2.yaml")];
        var requests = Path.Combine(_dir, "bad.jsonl");
        await File.WriteAllLinesAsync(requests, ["{\"headers\": {}}", line], TestContext.Current.CancellationToken);

        var (exit, output, error) = await Run(["diff", "--before", .. side, "--after", .. side, "--requests", requests]);

        if (message.Length == 0)
        {
            // An unknown service is not an input error: it is "no service" on both sides, and nothing moves.
            Assert.Equal((0, ""), (exit, error));
            return;
        }

        Assert.Equal((2, ""), (exit, output));
        Assert.StartsWith($"dynsubset: {requests}{message}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_BadFile_Exits2WithItsPosition()
    {
        var bad = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(bad, "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: x}\nspec: {host: [1]}\n", TestContext.Current.CancellationToken);
        string[] side = [Pods, Path.Combine(Reference, "service.yaml"), Path.Combine(Reference, "dr-step2.yaml")];

        var (exit, output, error) = await Run(["diff", "--before", .. side, "--after", bad]);

        Assert.Equal((2, ""), (exit, output));
        Assert.Contains($"{bad}:4:", error, StringComparison.Ordinal);
    }

    private const string Subsets = """
          subsets:
            - {name: v1, labels: {version: v1}}
            - {name: v2, labels: {version: v2}}

        """;

    private static string Weighted(int v1, int v2) => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: helloworld, namespace: default}
        spec:
          hosts: [helloworld.default.svc.cluster.local]
          http:
            - route:
                - {destination: {host: helloworld.default.svc.cluster.local, subset: v1}, weight: {{v1}}}
                - {destination: {host: helloworld.default.svc.cluster.local, subset: v2}, weight: {{v2}}}
        """;

    /// <summary>The page's VirtualService with an admin route (to subset-free dev, v1 by default) before or after the default route.</summary>
    private static string WithAdminRoute(string vs, bool adminFirst)
    {
        const string Admin = """
                - name: admin
                  match: [{uri: {prefix: /admin}}]
                  headerToDynamicSubsetKey:
                    - {header: x-version, key: version, defaultValue: v1}
                    - {header: x-stage, key: stage, defaultValue: dev}
                  route: [{destination: {host: helloworld.default.svc.cluster.local}}]

            """;
        var at = vs.IndexOf("    - headerToDynamicSubsetKey:", StringComparison.Ordinal);
        return adminFirst ? vs.Insert(at, Admin) : vs + "\n" + Admin;
    }

    private async Task<string[]> Side(string name, string dr, string vs, string pods)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;
        string[] files = [Path.Combine(dir, "pods.yaml"), Path.Combine(Reference, "service.yaml"), Path.Combine(dir, "dr.yaml"), Path.Combine(dir, "vs.yaml")];
        await File.WriteAllTextAsync(files[0], pods, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(files[2], dr, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(files[3], vs, TestContext.Current.CancellationToken);
        return files;
    }

    /// <summary>
    /// Each request's batch-contract line without its endpoint and route name: where serving sends it (destination,
    /// subset, fallback or error), not which pod it picks or which route's name it carries.
    /// </summary>
    private static async Task<List<string>> Resolve(string[] files, string requests)
    {
        var (exit, output, error) = await Run(["resolve", .. files.SelectMany(static f => new[] { "-f", f }), "--requests", requests, "-o", "json"]);
        Assert.Equal((0, ""), (exit, error));
        return [.. output.TrimEnd('\n').Split('\n').Select(static line =>
        {
            var json = JsonDocument.Parse(line).RootElement;
            return string.Join("|", json.EnumerateObject().Where(static p => p.Name is not "endpoint" and not "route").Select(static p => $"{p.Name}={p.Value.GetRawText()}"));
        })];
    }

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await Cli.RunAsync(args, new CliOutput(stdout, stderr, color: false), TestContext.Current.CancellationToken);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
