// The reference page's walkthrough, resolved in-process: the subset table, then each step's requests.
using DynamicSubset.Routing;

Endpoint[] pods =
[
    Pod("helloworld-dev-v1", "192.168.0.5", "dev", "v1"),
    Pod("helloworld-dev-v2", "192.168.0.1", "dev", "v2"),
    Pod("helloworld-dev-v3", "192.168.0.252", "dev", "v3"),
    Pod("helloworld-prod-v2", "192.168.0.103", "prod", "v2"),
    Pod("helloworld-prod-v3-a", "192.168.0.104", "prod", "v3"),
    Pod("helloworld-prod-v3-b", "192.168.0.6", "prod", "v3"),
];
HeaderMapping[] stageVersion = [new("x-version", "version", "v3"), new("x-stage", "stage", "prod")];

var failures = 0;

Step("Step 2: route by stage and version", Policy(null), [("dev", "v1", "192.168.0.5")], showTable: true);
Step("Step 3: NO_FALLBACK", Policy(FallbackPolicy.NoFallback), [("prod", "v1", "no healthy upstream")]);
Step("Step 3: ANY_ENDPOINT", Policy(FallbackPolicy.AnyEndpoint), [("prod", null, "192.168.0.104|192.168.0.6"), ("prod", "v1", "*")]);
Step("Step 3: DEFAULT_SUBSET", Policy(FallbackPolicy.DefaultSubset, [new("stage", "prod"), new("version", "v3")]),
    [("prod", "v1", "192.168.0.104|192.168.0.6"), ("prod", "v1", "192.168.0.104|192.168.0.6")]);

var ipPolicy = new RoutingPolicy(
    new DynamicSubsetPolicy([new SubsetSelector(BuiltInKeys.IP)], defaultSubset: [new("stage", "prod"), new("version", "v3")]),
    [new HeaderMapping("x-ip", BuiltInKeys.IP)]);
var ipResolver = new SubsetResolver(SubsetIndex.Build(pods, ipPolicy));
Console.WriteLine("== Step 4: pin to a pod with %ip%");
for (var i = 0; i < 3; i++)
{
    Report("-H 'x-ip: 192.168.0.6'", ipResolver.Resolve(new Dictionary<string, string> { ["x-ip"] = "192.168.0.6" }), "192.168.0.6");
}

Console.WriteLine();
Console.WriteLine(failures == 0 ? "every step as expected" : $"{failures} step(s) NOT as expected");
return failures == 0 ? 0 : 1;

void Step(string title, RoutingPolicy policy, (string Stage, string? Version, string Expected)[] requests, bool showTable = false)
{
    var resolver = new SubsetResolver(SubsetIndex.Build(pods, policy));
    Console.WriteLine($"== {title}");
    if (showTable)
    {
        foreach (var subset in resolver.Current.Subsets)
        {
            Console.WriteLine($"   {subset,-24} {string.Join(", ", subset.Endpoints.Select(e => $"{e.Name} {e.AddressText}"))}");
        }
    }

    foreach (var (stage, version, expected) in requests)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-stage"] = stage };
        if (version is not null)
        {
            headers["x-version"] = version;
        }

        Report(string.Join(" ", headers.Select(h => $"-H '{h.Key}: {h.Value}'")), resolver.Resolve(headers), expected);
    }
}

void Report(string request, Resolution result, string expected)
{
    var got = result.Endpoint is { } e ? $"Welcome to helloworld stage: {e.Labels["stage"]}, version: {e.Labels["version"]}, ip: {e.AddressText}" : "no healthy upstream";
    var ok = expected == "*" ? result.HasEndpoint : expected.Split('|').Contains(result.Endpoint?.AddressText ?? "no healthy upstream");
    failures += ok ? 0 : 1;
    Console.WriteLine($"   curl {request} helloworld:8000");
    Console.WriteLine($"   {(ok ? "ok " : "BAD")} {got}   [{result}]");
}

RoutingPolicy Policy(FallbackPolicy? selectorPolicy, KeyValuePair<string, string>[]? defaultSubset = null) =>
    new(new DynamicSubsetPolicy([new SubsetSelector(["stage", "version"], selectorPolicy)], defaultSubset: defaultSubset), stageVersion);

static Endpoint Pod(string name, string ip, string stage, string version) =>
    Endpoint.Create(ip, 5678, new Dictionary<string, string> { ["app"] = "helloworld", ["stage"] = stage, ["version"] = version }, name: name);
