using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary>
/// <c>dynsubset serve</c> in this process, over two real backends on 127.0.8.x that form one subset (prod/v3): what the
/// probe broke (hostile files on reload, edits written in place, a killed pod, idle connections, a port in use).
/// </summary>
public sealed class ServeTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-serve-").FullName;
    private Backends _backends = null!;
    private CancellationTokenSource _stop = null!;
    private Task<int>? _serve;
    private readonly StringWriter _stderr = new();

    private string Entry => Path.Combine(_dir, "se.yaml");

    private Uri Gateway { get; set; } = null!;

    private Uri Admin { get; set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _backends = await Backends.StartAsync(["127.0.8.11", "127.0.8.12"]);
        _stop = new CancellationTokenSource();
        await File.WriteAllTextAsync(Entry, ServiceEntry("a"), TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_serve is not null)
        {
            await _serve.WaitAsync(TimeSpan.FromSeconds(30));
        }

        _stop.Dispose();
        await _backends.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string ServiceEntry(string zone, string weights = "") => $$$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: helloworld-vms}
        spec:
          hosts: [helloworld.default.svc.cluster.local]
          resolution: STATIC
          ports: [{number: 8000, name: http, targetPort: {{{_backends.Port}}}}]
          endpoints:
            - {address: 127.0.8.11, labels: {stage: prod, version: v3, zone: {{{zone}}}}{{{weights}}}}
            - {address: 127.0.8.12, labels: {stage: prod, version: v3, zone: {{{zone}}}}}
        """;

    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    private async Task StartServeAsync(ServeSettings? settings = null)
    {
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _serve = Serve.RunAsync(
            new CliOutput(new StringWriter(), _stderr, color: false),
            [Entry, Data("reference/dr-step2.yaml"), Data("reference/vs-step2.yaml")],
            new Uri("http://127.0.8.1:0"),
            new Uri("http://127.0.8.2:0"),
            settings ?? ServeSettings.Default,
            _stop.Token,
            (gateway, admin) => started.TrySetResult((gateway, admin)));
        var (g, a) = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        (Gateway, Admin) = (g, a!);
    }

    [Fact]
    public async Task AdminExplain_DecidesWithTheGatewaysTrustedNetworks()
    {
        // The admin listener is an app of its own: it must see the traffic app's trusted networks, or it explains a
        // caller's routing headers that the gateway ignores.
        await StartServeAsync(ServeSettings.Default with { TrustedNetworks = [System.Net.IPNetwork.Parse("10.0.0.0/8")], Locality = new Locality("us-east", "zone-a") });
        using var client = new HttpClient();
        async Task<JsonElement> Explain(string sourceIp)
        {
            using var content = new StringContent(
                $$"""{"service": "helloworld", "headers": {"x-stage": "dev", "x-version": "v1"}, "sourceIp": "{{sourceIp}}"}""", Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri(Admin, "/debug/dynamic-subsets/explain"), content, TestContext.Current.CancellationToken);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
        }

        var untrusted = await Explain("127.0.0.1");
        var trusted = await Explain("10.1.2.3");

        Assert.DoesNotContain(untrusted.GetProperty("criteria").EnumerateArray(), c => c.GetProperty("value").GetString() == "dev");
        Assert.Contains(trusted.GetProperty("criteria").EnumerateArray(), c => c.GetProperty("value").GetString() == "dev");
    }

    private async Task<JsonElement> CatalogAsync(HttpClient client)
    {
        var json = await client.GetStringAsync(new Uri(Admin, "/debug/dynamic-subsets"), TestContext.Current.CancellationToken);
        return JsonDocument.Parse(json).RootElement.GetProperty("catalogs")[0].Clone();
    }

    public static TheoryData<string, string, string> HostileFiles => new()
    {
        { "deep", "spec: " + new string('[', 20_000) + new string(']', 20_000), "DSR1001" },
        { "aliases", AliasBomb(), "DSR1001" },
        { "empty", "", "DSR1010" },
        { "half-written", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: helloworld-vms}\nspec:\n  hosts: [helloworld.default.svc.cluster.local]\n  endpoints:\n    - {address: 127.0.8.11, labels: {stage: pr", "DSR1001" },
    };

    private static string AliasBomb()
    {
        var b = new StringBuilder("apiVersion: v1\nkind: List\nx0: &l0 {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {app: a}}, status: {podIP: 10.0.0.1}}\n");
        for (var level = 1; level <= 8; level++)
        {
            b.Append(System.Globalization.CultureInfo.InvariantCulture, $"x{level}: &l{level} {{apiVersion: v1, kind: List, items: [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 10))}]}}\n");
        }

        return b.Append("items: [*l8]\n").ToString();
    }

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public async Task HostileFile_OnALiveReload_IsRejected_AndTheLastGoodKeepsServing(string kind, string content, string code)
    {
        await StartServeAsync();
        using var client = new HttpClient();
        var version = (await CatalogAsync(client)).GetProperty("version").GetInt64();

        await File.WriteAllTextAsync(Entry, content, TestContext.Current.CancellationToken);
        JsonElement catalog = default;
        var deadline = Environment.TickCount64 + 10_000;
        do
        {
            Assert.True(Environment.TickCount64 < deadline, $"{kind}: no rejection in 10 s");
            await Task.Delay(20, TestContext.Current.CancellationToken);
            catalog = await CatalogAsync(client);
        }
        while (catalog.GetProperty("lastError").ValueKind == JsonValueKind.Null);

        Assert.Equal(version, catalog.GetProperty("version").GetInt64());
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(Entry)}:\d+:\d+: {code}", catalog.GetProperty("lastError").GetProperty("where")[0].GetString());
        using var response = await client.GetAsync(Gateway, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // And the same file through validate: one error with its position, exit 2.
        var stdout = new StringWriter();
        var exit = await Cli.RunAsync(["validate", "-f", Entry], new CliOutput(stdout, new StringWriter(), color: false), TestContext.Current.CancellationToken);
        Assert.Equal(2, exit);
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(Entry)}:\d+:\d+: error {code}: ", stdout.ToString());
    }

    [Fact]
    public async Task WeightsThatAbortedTheProcess_ServeAndResolve()
    {
        await File.WriteAllTextAsync(Entry, ServiceEntry("a", weights: ", weight: 4294967295"), TestContext.Current.CancellationToken);
        var files = new[] { "-f", Entry, "-f", Data("reference/dr-step2.yaml"), "-f", Data("reference/vs-step2.yaml") };

        var subsets = await Cli.RunAsync(["subsets", .. files], new CliOutput(new StringWriter(), new StringWriter(), color: false), TestContext.Current.CancellationToken);
        var resolve = await Cli.RunAsync(["resolve", .. files, "-n", "20"], new CliOutput(new StringWriter(), new StringWriter(), color: false), TestContext.Current.CancellationToken);
        await StartServeAsync();
        using var client = new HttpClient();
        using var response = await client.GetAsync(Gateway, TestContext.Current.CancellationToken);

        Assert.Equal((0, 0), (subsets, resolve));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task EditsWrittenInPlace_TwentyASecond_UnderLoad_LoseNoRequest()
    {
        await StartServeAsync();
        using var client = new HttpClient();
        var version = (await CatalogAsync(client)).GetProperty("version").GetInt64();
        using var done = new CancellationTokenSource();

        // An editor that truncates the file, then writes it in two pieces: readers can meet an empty or half file.
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                var bytes = Encoding.UTF8.GetBytes(ServiceEntry(i % 2 == 0 ? "b" : "a"));
                await using (var file = new FileStream(Entry, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite))
                {
                    await file.WriteAsync(bytes.AsMemory(0, bytes.Length / 2), TestContext.Current.CancellationToken);
                    await file.FlushAsync(TestContext.Current.CancellationToken);
                    await Task.Delay(2, TestContext.Current.CancellationToken);
                    await file.WriteAsync(bytes.AsMemory(bytes.Length / 2), TestContext.Current.CancellationToken);
                }

                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            await done.CancelAsync();
        }, TestContext.Current.CancellationToken);

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => LoadAsync(client, done.Token)));
        await writer;

        var total = results.Sum(r => r.Total);
        var failed = results.Sum(r => r.Failed);
        var applied = (await CatalogAsync(client)).GetProperty("version").GetInt64() - version;
        Assert.True(total > 100, $"only {total} requests were sent");
        Assert.Equal(0, failed);
        Assert.True(applied >= 2, $"only {applied} of the edits were applied");
        TestContext.Current.TestOutputHelper?.WriteLine($"in-place edits: {total} requests, {failed} failed");
    }

    [Fact]
    public async Task KilledPod_UnderLoad_NoRequestFails()
    {
        await StartServeAsync();
        using var client = new HttpClient();
        using var done = new CancellationTokenSource();
        var killedAt = 0L;
        var killer = Task.Run(async () =>
        {
            await Task.Delay(1000, TestContext.Current.CancellationToken);
            await _backends.KillAsync(0);
            Volatile.Write(ref killedAt, Environment.TickCount64);
            await Task.Delay(2000, TestContext.Current.CancellationToken);
            await done.CancelAsync();
        }, TestContext.Current.CancellationToken);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => LoadAsync(client, done.Token, () => Volatile.Read(ref killedAt))));
        await killer;

        var total = results.Sum(r => r.Total);
        var failed = results.Sum(r => r.Failed);
        var failedLate = results.Sum(r => r.FailedAfterFirstSecond);
        TestContext.Current.TestOutputHelper?.WriteLine($"killed pod: {total} requests, {failed} failed, {failedLate} failed more than 1 s after the kill");
        Assert.True(total > 100, $"only {total} requests were sent");
        Assert.True(failed <= total / 1000, $"{failed} of {total} failed");
        Assert.Equal(0, failedLate);
    }

    [Fact]
    public async Task ConnectionCap_ReclaimsTheOldestIdleConnection_AndRefusesOnlyWhenAllAreBusy()
    {
        await StartServeAsync(ServeSettings.Default with { MaxConnections = 4 });
        var open = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var tcp = new TcpClient();
                await tcp.ConnectAsync(Gateway.Host, Gateway.Port, TestContext.Current.CancellationToken);
                open.Add(tcp);
                Assert.StartsWith("HTTP/1.1 200", await RequestAsync(tcp), StringComparison.Ordinal);
            }

            // All four are idle keep-alive connections: a fifth takes the oldest one's place.
            var fifth = new TcpClient();
            await fifth.ConnectAsync(Gateway.Host, Gateway.Port, TestContext.Current.CancellationToken);
            Assert.StartsWith("HTTP/1.1 200", await RequestAsync(fifth), StringComparison.Ordinal);
            Assert.Equal("", await RequestAsync(open[0])); // closed without an answer
            open[0].Dispose();
            open[0] = fifth;
            foreach (var tcp in open.Skip(1))
            {
                Assert.StartsWith("HTTP/1.1 200", await RequestAsync(tcp), StringComparison.Ordinal);
            }

            // With a slow request in flight on each of the four, none is idle: a new connection is refused.
            var slow = open.Select(static tcp => RequestAsync(tcp, "/slow")).ToList();
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                while (_backends.SlowInFlight < 4)
                {
                    await Task.Delay(10, timeout.Token); // until all four are in flight at the pods
                }
            }

            using (var extra = new TcpClient())
            {
                await extra.ConnectAsync(Gateway.Host, Gateway.Port, TestContext.Current.CancellationToken);
                Assert.Equal("", await RequestAsync(extra));
            }

            Assert.All(await Task.WhenAll(slow), static r => Assert.StartsWith("HTTP/1.1 200", r, StringComparison.Ordinal));
        }
        finally
        {
            open.ForEach(static t => t.Dispose());
        }
    }

    [Fact]
    public async Task ListenAddressInUse_IsOneLine_AndExit2()
    {
        using var taken = new TcpListener(IPAddress.Parse("127.0.8.5"), 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var stderr = new StringWriter();

        var exit = await Cli.RunAsync(
            ["serve", "-f", Entry, "-f", Data("reference/dr-step2.yaml"), "-f", Data("reference/vs-step2.yaml"), "--listen", $"http://127.0.8.5:{port}"],
            new CliOutput(new StringWriter(), stderr, color: false),
            TestContext.Current.CancellationToken);

        // Its own log lines come first; the failure is one line, with no stack trace.
        Assert.Equal(2, exit);
        Assert.EndsWith($"\ndynsubset: cannot listen on http://127.0.8.5:{port}: the address is already in use\n", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListenAddressNotOfThisMachine_IsOneLine_AndExit2()
    {
        var stderr = new StringWriter();

        var exit = await Cli.RunAsync(
            ["serve", "-f", Entry, "-f", Data("reference/dr-step2.yaml"), "-f", Data("reference/vs-step2.yaml"), "--listen", "http://10.255.255.1:8080"],
            new CliOutput(new StringWriter(), stderr, color: false),
            TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Matches(@"\ndynsubset: cannot listen on http://10\.255\.255\.1:8080: [^\n]+\n$", stderr.ToString());
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Sends a request on a kept-alive connection and reads its whole (chunked) response; "" when the server closed it.</summary>
    private static async Task<string> RequestAsync(TcpClient tcp, string path = "/")
    {
        var stream = tcp.GetStream();
        var response = new StringBuilder();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: helloworld\r\n\r\n"), TestContext.Current.CancellationToken);
            var buffer = new byte[4096];
            while (!response.ToString().EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
                if (read == 0)
                {
                    break;
                }

                response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            // reset by the server
        }

        return response.ToString();
    }

    private async Task<(int Total, int Failed, int FailedAfterFirstSecond)> LoadAsync(HttpClient client, CancellationToken until, Func<long>? killedAt = null)
    {
        var (total, failed, late) = (0, 0, 0);
        while (!until.IsCancellationRequested)
        {
            total++;
            try
            {
                using var response = await client.GetAsync(Gateway, TestContext.Current.CancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    continue;
                }
            }
            catch (HttpRequestException)
            {
            }

            failed++;
            var at = killedAt?.Invoke() ?? 0;
            late += at != 0 && Environment.TickCount64 - at > 1000 ? 1 : 0;
        }

        return (total, failed, late);
    }
}
