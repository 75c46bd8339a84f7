using System.Globalization;
using System.Net.Sockets;
using System.Text;
using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli;

/// <summary>
/// The reference page's walkthrough, on this machine: the six helloworld workloads as in-process HTTP servers on
/// loopback addresses, the page's DestinationRule and VirtualService YAML (embedded verbatim), and every step sent
/// as real HTTP through the HttpClient adapter.
/// </summary>
internal static class Demo
{
    /// <summary>The reference page's container port, which the demo uses unless told otherwise.</summary>
    public const int DefaultPort = 5678;

    private static readonly (string Name, string Stage, string Version)[] Pods =
    [
        ("helloworld-dev-v1-67b6876778-nf7pz", "dev", "v1"),
        ("helloworld-dev-v2-68f65bbc99-v957l", "dev", "v2"),
        ("helloworld-dev-v3-7f6978bc56-hqzgg", "dev", "v3"),
        ("helloworld-prod-v2-b5745b949-p8rc4", "prod", "v2"),
        ("helloworld-prod-v3-6768bf56f8-6bd6h", "prod", "v3"),
        ("helloworld-prod-v3-6768bf56f8-x2x9q", "prod", "v3"),
    ];

    public static async Task<int> RunAsync(CliOutput output, bool keep, int requestedPort, CancellationToken cancellationToken)
    {
        var apps = new List<WebApplication>();
        var port = requestedPort;
        try
        {
            var ips = new List<string>();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    port = await StartWorkloadsAsync(apps, ips, requestedPort, cancellationToken);
                    break;
                }
                catch (Exception e) when (requestedPort == 0 && attempt < 4 && IsAddressInUse(e))
                {
                    // The port the first workload was given is taken on another address: stop, and ask for another.
                    await StopAsync(apps);
                    ips.Clear();
                }
            }

            var w = output.Out;
            w.WriteLine(output.Bold("Step 1: deploy the sample application"));
            Table.Write(w, ["POD", "STAGE", "VERSION", "ADDRESS"], Pods.Select((p, i) => (IReadOnlyList<string>)[p.Name, p.Stage, p.Version, $"{ips[i]}:{port}"]));
            w.WriteLine();

            var pods = PodList(ips, port);
            var serviceYaml = Embedded("service.yaml");
            serviceYaml = serviceYaml with { Content = serviceYaml.Content.Replace($"targetPort: {DefaultPort}", $"targetPort: {port}", StringComparison.Ordinal) };
            var failures = 0;
            var total = 0;

            async Task Step(string title, string dr, string vs, IEnumerable<(string Curl, (string, string)[] Headers, Func<string, bool> Expected, string ExpectedText)> requests, bool table = false)
            {
                w.WriteLine(output.Bold(title));
                var config = MeshConfiguration.Parse([new("pods.yaml", pods), serviceYaml, Embedded(dr), Embedded(vs)]);
                config.ThrowIfInvalid();
                using var catalog = config.CreateCatalog(); // the VirtualService's routes too, as the mesh applies them
                w.WriteLine(output.Dim($"  applied {dr} and {vs}"));
                if (table)
                {
                    var index = catalog.Current.TryFind("helloworld", out var routed) ? routed.Resolver.Current : throw new InvalidOperationException("the walkthrough's files name no helloworld service");
                    Table.Write(w, ["SUBSET", "POD", "IP ADDRESS"], index.Subsets.Select(s => (IReadOnlyList<string>)[
                        s.ToString(), string.Join(", ", s.Endpoints.Select(e => e.Name)), string.Join(", ", s.Endpoints.Select(e => e.AddressText))]));
                }

                await using var provider = Client(catalog);
                var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("helloworld");
                foreach (var (curl, headers, expected, expectedText) in requests)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "/");
                    foreach (var (name, value) in headers)
                    {
                        request.Headers.TryAddWithoutValidation(name, value);
                    }

                    using var response = await client.SendAsync(request, cancellationToken);
                    var body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
                    var ok = expected(body);
                    total++;
                    failures += ok ? 0 : 1;
                    w.WriteLine($"  $ kubectl exec -it deploy/sleep -c sleep -- curl {curl}helloworld:8000");
                    w.WriteLine($"  {body}");
                    w.WriteLine(ok ? output.Green("    expected") : output.Red($"    NOT expected: wanted {expectedText}"));
                }

                w.WriteLine();
            }

            string Greeting(int pod) => $"Welcome to helloworld stage: {Pods[pod].Stage}, version: {Pods[pod].Version}, ip: {ips[pod]}";
            (string, (string, string)[], Func<string, bool>, string) Expect(string curl, (string, string)[] headers, params int[] pods) =>
                (curl, headers, body => pods.Any(p => body == Greeting(p)), string.Join(" or ", pods.Select(p => Pods[p].Name)));
            (string, (string, string)[], Func<string, bool>, string) Unavailable(string curl, (string, string)[] headers) =>
                (curl, headers, body => body == "no healthy upstream", "no healthy upstream");

            var prodV1 = new[] { ("x-stage", "prod"), ("x-version", "v1") };
            await Step("Step 2: route requests to a specific version and environment", "dr-step2.yaml", "vs-step2.yaml",
                [Expect("-H 'x-stage: dev' -H 'x-version: v1' ", [("x-stage", "dev"), ("x-version", "v1")], 0)], table: true);
            await Step("Step 3: NO_FALLBACK", "dr-no-fallback.yaml", "vs-step2.yaml",
                [Unavailable("-H 'x-stage: prod' -H 'x-version: v1' ", prodV1)]);
            await Step("Step 3: ANY_ENDPOINT (x-version defaults to v3, so prod alone is prod/v3)", "dr-any-endpoint.yaml", "vs-step2.yaml",
            [
                Expect("-H 'x-stage: prod' ", [("x-stage", "prod")], 4, 5),
                Expect("-H 'x-stage: prod' -H 'x-version: v1' ", prodV1, 0, 1, 2, 3, 4, 5),
            ]);
            await Step("Step 3: DEFAULT_SUBSET", "dr-default-subset.yaml", "vs-step2.yaml",
                [Expect("-H 'x-stage: prod' -H 'x-version: v1' ", prodV1, 4, 5), Expect("-H 'x-stage: prod' -H 'x-version: v1' ", prodV1, 4, 5)]);
            var pin = new[] { ("x-ip", ips[5]) };
            await Step("Step 4: route to a specific pod by IP address", "dr-step4-ip.yaml", "vs-step4-ip.yaml",
            [
                Expect($"-H 'x-ip: {ips[5]}' ", pin, 5), Expect($"-H 'x-ip: {ips[5]}' ", pin, 5), Expect($"-H 'x-ip: {ips[5]}' ", pin, 5),
                Unavailable("", []),
            ]);

            w.WriteLine(failures == 0
                ? output.Green($"All {total} requests as expected.")
                : output.Red($"{failures} of {total} requests NOT as expected."));

            if (keep)
            {
                w.WriteLine($"The workloads keep running on {ips[0]}-{ips[^1].Split('.')[^1]}:{port}; try them with curl, or put 'dynsubset serve' in front of them. Ctrl+C stops them.");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return failures == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (Exception e) when (IsAddressInUse(e))
        {
            await output.Error.WriteLineAsync($"dynsubset: could not start a workload on 127.0.0.11-16:{port}: {e.Message}. Is another demo running? '--port 0' picks a free port.");
            return ExitCodes.InvalidInput;
        }
        finally
        {
            await StopAsync(apps);
        }
    }

    private static bool IsAddressInUse(Exception e) => e is AddressInUseException || e.InnerException is SocketException;

    /// <summary>Starts the six workloads on one port; port 0 takes the port the system gives the first one.</summary>
    private static async Task<int> StartWorkloadsAsync(List<WebApplication> apps, List<string> ips, int port, CancellationToken cancellationToken)
    {
        for (var i = 0; i < Pods.Length; i++)
        {
            var ip = $"127.0.0.{(11 + i).ToString(CultureInfo.InvariantCulture)}";
            var app = await StartWorkloadAsync(ip, port, Pods[i].Stage, Pods[i].Version, apps, cancellationToken);
            if (port == 0)
            {
                port = new Uri(app.Urls.First()).Port;
            }

            ips.Add(ip);
        }

        return port;
    }

    private static async Task StopAsync(List<WebApplication> apps)
    {
        foreach (var app in apps)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }

        apps.Clear();
    }

    private static ServiceProvider Client(RoutingCatalog catalog)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("helloworld", c => c.BaseAddress = new Uri("http://helloworld:8000"))
            .AddDynamicSubsetRouting(_ => catalog);
        return services.BuildServiceProvider();
    }

    private static async Task<WebApplication> StartWorkloadAsync(string ip, int port, string stage, string version, List<WebApplication> apps, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{ip}:{port.ToString(CultureInfo.InvariantCulture)}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        apps.Add(app); // stopped by the caller, even if it fails to start
        var text = $"Welcome to helloworld stage: {stage}, version: {version}, ip: {ip}\n"; // what http-echo prints
        app.Map("/{**path}", () => text);
        await app.StartAsync(cancellationToken);
        return app;
    }

    /// <summary>The workloads as <c>kubectl get pods -o yaml</c> would show them.</summary>
    private static string PodList(List<string> ips, int port)
    {
        var b = new StringBuilder("apiVersion: v1\nkind: List\nitems:\n");
        for (var i = 0; i < Pods.Length; i++)
        {
            var (name, stage, version) = Pods[i];
            b.Append(CultureInfo.InvariantCulture, $"- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {name}\n    namespace: default\n");
            b.Append(CultureInfo.InvariantCulture, $"    labels: {{app: helloworld, stage: {stage}, version: {version}}}\n");
            b.Append(CultureInfo.InvariantCulture, $"  spec:\n    containers: [{{name: helloworld, ports: [{{containerPort: {port}}}]}}]\n");
            b.Append(CultureInfo.InvariantCulture, $"  status:\n    podIP: {ips[i]}\n    conditions: [{{type: Ready, status: 'True'}}]\n");
        }

        return b.ToString();
    }

    private static ConfigurationText Embedded(string name)
    {
        using var stream = typeof(Demo).Assembly.GetManifestResourceStream($"Reference/{name}")
            ?? throw new InvalidOperationException($"missing embedded resource {name}");
        using var reader = new StreamReader(stream);
        return new ConfigurationText(name, reader.ReadToEnd());
    }
}
