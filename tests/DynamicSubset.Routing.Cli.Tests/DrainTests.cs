using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary><c>dynsubset serve</c> as a real process: its probes on the admin listener, and its drain on SIGTERM under load.</summary>
public sealed partial class DrainTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-drain-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Sigterm_ReadyzTurns503_ListenersKeepServing_TheSlowRequestCompletes_Exit0()
    {
        await using var backends = await Backends.StartAsync(["127.0.7.31", "127.0.7.32"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.31, labels: {stage: dev, version: v1}}, {address: 127.0.7.32, labels: {stage: prod, version: v3}}");
        var data = Path.Combine(AppContext.BaseDirectory, "TestData", "reference");
        using var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "dynsubset.dll"), "serve", "-f", entry, "-f", Path.Combine(data, "dr-step2.yaml"), "-f", Path.Combine(data, "vs-step2.yaml"),
                "--listen", "http://127.0.7.3:0", "--admin", "http://127.0.7.4:0", "--drain-time", "2s",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var first = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken);
            var match = Listening().Match(first!);
            Assert.True(match.Success, first);
            var (gateway, admin) = (new Uri(match.Groups[1].Value), new Uri(match.Groups[2].Value));
            using var probe = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });

            // The probes, and the admin root that leads to the page.
            Assert.Equal((HttpStatusCode.OK, "ok\n"), await Get(probe, new Uri(admin, "/healthz")));
            Assert.Equal((HttpStatusCode.OK, "ok\n"), await Get(probe, new Uri(admin, "/readyz")));
            using (var foreign = new HttpRequestMessage(HttpMethod.Get, new Uri(admin, "/debug/dynamic-subsets")))
            {
                // A page whose DNS name was rebound to this address cannot read the admin JSON: its Host is refused.
                foreign.Headers.Host = "evil.example";
                using var refused = await probe.SendAsync(foreign, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.MisdirectedRequest, refused.StatusCode);
            }

            using (var root = await probe.GetAsync(admin, TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
                Assert.Equal("/debug/dynamic-subsets/ui", root.Headers.Location!.OriginalString);
            }

            // Six clients in a loop, and a slow request in flight.
            var sent = new System.Collections.Concurrent.ConcurrentBag<(long At, bool Ok, long Done)>();
            using var stopClients = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            {
                using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                while (!stopClients.IsCancellationRequested)
                {
                    var at = Stopwatch.GetTimestamp();
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
                        request.Headers.Add("x-stage", i % 2 == 0 ? "dev" : "prod");
                        request.Headers.Add("x-version", i % 2 == 0 ? "v1" : "v3");
                        using var response = await client.SendAsync(request);
                        sent.Add((at, response.StatusCode == HttpStatusCode.OK, Stopwatch.GetTimestamp()));
                    }
                    catch (HttpRequestException)
                    {
                        sent.Add((at, false, Stopwatch.GetTimestamp()));
                        await Task.Delay(20);
                    }
                }
            })).ToList();
            using var slowClient = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            using var slowRequest = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "/slow"));
            slowRequest.Headers.Add("x-stage", "dev");
            slowRequest.Headers.Add("x-version", "v1");
            var slow = slowClient.SendAsync(slowRequest, TestContext.Current.CancellationToken);
            await WaitFor(() => sent.Count(static s => s.Ok) >= 60);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
            }

            // Readiness turns at once; traffic still flows while the load balancer would take the pod out.
            long notReadyAt = 0;
            await WaitFor(async () =>
            {
                var (status, body) = await Get(probe, new Uri(admin, "/readyz"));
                notReadyAt = Stopwatch.GetTimestamp();
                return status == HttpStatusCode.ServiceUnavailable && body == "not ready: draining: the gateway is shutting down\n";
            });
            var servedWhileDraining = sent.Count(s => s.Ok && s.At > notReadyAt);
            await WaitFor(() => sent.Count(s => s.Ok && s.At > notReadyAt) > servedWhileDraining + 20);

            using (var answer = await slow)
            {
                Assert.Equal("127.0.7.31 slow", await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            }

            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            await stopClients.CancelAsync();
            await Task.WhenAll(clients);
            Assert.Equal(0, process.ExitCode);
            var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            Assert.Contains("dynsubset gateway draining: /readyz answers 503; still serving for 2s\ndynsubset gateway stopping\n", output, StringComparison.Ordinal);

            // Nothing sent before readiness turned failed.
            var early = sent.Where(s => s.At < notReadyAt).ToList();
            Assert.True(early.Count >= 60, $"{early.Count} requests before the drain");
            Assert.All(early, static s => Assert.True(s.Ok));
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
    public async Task Sighup_ReopensTheLogAndKeepsServing_ASecondSigterm_StopsAtOnce()
    {
        await using var backends = await Backends.StartAsync(["127.0.7.35"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.35, labels: {stage: dev, version: v1}}");
        var data = Path.Combine(AppContext.BaseDirectory, "TestData", "reference");
        var log = Path.Combine(_dir, "access.log");
        using var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "dynsubset.dll"), "serve", "-f", entry, "-f", Path.Combine(data, "dr-step2.yaml"), "-f", Path.Combine(data, "vs-step2.yaml"),
                "--listen", "http://127.0.7.3:0", "--admin", "http://127.0.7.4:0", "--drain-time", "60s", "--access-log", log,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var match = Listening().Match((await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken))!);
            Assert.True(match.Success);
            var gateway = new Uri(match.Groups[1].Value);
            using var client = new HttpClient();
            async Task<HttpStatusCode> Send()
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
                request.Headers.Add("x-stage", "dev");
                request.Headers.Add("x-version", "v1");
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                return response.StatusCode;
            }

            Assert.Equal(HttpStatusCode.OK, await Send());
            await Signal(process, "-HUP"); // by default SIGHUP ends a process: here it only reopens the access log
            Assert.Equal(HttpStatusCode.OK, await Send());
            await WaitFor(() => File.Exists(log) && File.ReadAllLines(log).Length == 2);

            await Signal(process, "-TERM");
            Assert.StartsWith("dynsubset gateway draining", await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
            await Signal(process, "-TERM"); // the second: at once, not after the 60 s drain
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static async Task Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", [signal, process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<(HttpStatusCode, string)> Get(HttpClient client, Uri url)
    {
        using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static Task WaitFor(Func<bool> condition) => WaitFor(() => Task.FromResult(condition()));

    private static async Task WaitFor(Func<Task<bool>> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    [GeneratedRegex(@"^dynsubset gateway listening on (http://127\.0\.7\.3:\d+/) .*; admin page on (http://127\.0\.7\.4:\d+/)")]
    private static partial Regex Listening();
}
