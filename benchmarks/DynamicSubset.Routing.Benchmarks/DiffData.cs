using System.Globalization;
using System.Text;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// Writes the input of benchmarks/diff-scale.sh: a configuration of many services as it is and with an edit (every
/// tenth service's fallback policy changed, every seventh relabels a pod), and a file of recorded requests spread over
/// them. Not a BenchmarkDotNet class: <c>dynsubset diff</c> is timed as a whole process, reading its files.
/// </summary>
internal static class DiffData
{
    public static async Task<int> RunAsync(string[] args)
    {
        var dir = args.Length > 0 ? args[0] : Directory.CreateTempSubdirectory("dsr-diff-").FullName;
        var requests = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        var services = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "before.yaml"), Mesh(services, edited: false));
        await File.WriteAllTextAsync(Path.Combine(dir, "after.yaml"), Mesh(services, edited: true));

        var random = new Random(42);
        string[] stages = ["dev", "prod", "test"];
        await using (var writer = new StreamWriter(Path.Combine(dir, "requests.jsonl"), append: false, Encoding.UTF8, 1 << 16))
        {
            for (var i = 0; i < requests; i++)
            {
                var stage = stages[random.Next(stages.Length)];
                var version = random.Next(1, 7);
                await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $$$"""{"service": "svc-{{{random.Next(services)}}}.default.svc.cluster.local", "method": "GET", "path": "/items/{{{i % 1000}}}", "headers": {"x-stage": "{{{stage}}}", "x-version": "v{{{version}}}", "user-agent": "replay"}}"""));
            }
        }

        Console.WriteLine(dir);
        return 0;
    }

    private static string Mesh(int services, bool edited)
    {
        var b = new StringBuilder();
        for (var s = 0; s < services; s++)
        {
            var host = string.Create(CultureInfo.InvariantCulture, $"svc-{s}.default.svc.cluster.local");
            b.Append(CultureInfo.InvariantCulture, $"""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {"{"}name: svc-{s}, namespace: default{"}"}
                spec:
                  hosts: [{host}]
                  resolution: STATIC
                  ports: [{"{"}number: 80, name: http{"}"}]
                  endpoints:

                """);
            for (var e = 0; e < 10; e++)
            {
                var version = edited && s % 7 == 0 && e == 0 ? 9 : e % 5 + 1;
                b.Append(CultureInfo.InvariantCulture, $"    - {{address: 10.{s / 200}.{s % 200}.{e + 1}, labels: {{stage: {(e < 5 ? "dev" : "prod")}, version: v{version}}}}}\n");
            }

            var fallback = edited && s % 10 == 0 ? "ANY_ENDPOINT" : "NO_FALLBACK";
            b.Append(CultureInfo.InvariantCulture, $"""
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {"{"}name: svc-{s}, namespace: default{"}"}
                spec:
                  host: {host}
                  trafficPolicy:
                    loadBalancer:
                      dynamicSubset:
                        subsetSelectors: [{"{"}keys: [stage, version], fallbackPolicy: {fallback}{"}"}]
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {"{"}name: svc-{s}, namespace: default{"}"}
                spec:
                  hosts: [{host}]
                  http:
                    - headerToDynamicSubsetKey:
                        - {"{"}header: x-stage, key: stage, defaultValue: prod{"}"}
                        - {"{"}header: x-version, key: version, defaultValue: v3{"}"}
                      route: [{"{"}destination: {"{"}host: {host}{"}"}{"}"}]
                ---

                """);
        }

        return b.ToString();
    }
}
