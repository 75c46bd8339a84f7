using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary><c>serve --max-connections-per-source</c>, and the refusals at the caps written once a second, not once a connection.</summary>
public sealed class ConnectionLimitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-conn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task OneSourceAtItsLimit_IsRefusedMore_WhileAnotherSourceGetsItsAnswer_AndTheRefusalsCollapse()
    {
        await using var backends = await Backends.StartAsync(["127.0.7.71"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.71}", $$$"""
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: vm}
            spec: {host: helloworld.default.svc.cluster.local}
            """);
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var serve = Serve.RunAsync(new CliOutput(new StringWriter(), stderr, color: false), [entry], new Uri("http://127.0.7.7:0"), null,
            ServeSettings.Default with { MaxConnectionsPerSource = 3 }, stop.Token, (g, a) => started.TrySetResult((g, a)));
        var (gateway, _) = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Three idle connections from 127.0.7.72 hold its share; forty more from it are closed at once.
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                held.Add(await Connect(gateway, "127.0.7.72"));
                Assert.Equal("200", await Get(held[^1]));
            }

            for (var i = 0; i < 40; i++)
            {
                // Closed before it could answer: reset while connecting, or closed before the response.
                try
                {
                    using var more = await Connect(gateway, "127.0.7.72");
                    Assert.Null(await TryGet(more));
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                }
            }

            // Once the second has turned, the next refusal's line says how many were left out before it.
            var second = Environment.TickCount64 / 1000;
            while (Environment.TickCount64 / 1000 == second)
            {
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }

            try
            {
                using var last = await Connect(gateway, "127.0.7.72");
                Assert.Null(await TryGet(last));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
            }

            // Another address gets its answer.
            using (var other = await Connect(gateway, "127.0.7.73"))
            {
                Assert.Equal("200", await Get(other));
            }

            // The held connections still work.
            Assert.Equal("200", await Get(held[0]));
        }
        finally
        {
            held.ForEach(static c => c.Dispose());
        }

        await stop.CancelAsync();
        await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var refusals = stderr.ToString().Split('\n').Where(static l => l.Contains("Refused a connection from 127.0.7.72", StringComparison.Ordinal)).ToList();
        Assert.InRange(refusals.Count, 2, 4); // 41 refusals over about a second: at most one line a second
        Assert.Contains(refusals, static l => l.Contains("more like it in the last second", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IdleConnectionsHoldingTheCap_AreReclaimed_SoThatAClientWithARequestGetsIn()
    {
        await using var backends = await Backends.StartAsync(["127.0.7.75"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.75}", """
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: vm}
            spec: {host: helloworld.default.svc.cluster.local}
            """);
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var serve = Serve.RunAsync(new CliOutput(new StringWriter(), new StringWriter(), color: false), [entry], new Uri("http://127.0.7.8:0"), null,
            ServeSettings.Default with { MaxConnections = 300 }, stop.Token, (g, a) => started.TrySetResult((g, a)));
        var (gateway, _) = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Three hundred connections that never send a request hold the cap.
        var idle = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                idle.Add(await Connect(gateway, "127.0.7.76"));
            }

            // A client with a request gets its answer: the oldest idle connection made room.
            using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
                request.Headers.Host = "helloworld";
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // The first idle connection was the one closed.
            var buffer = new byte[1];
            var read = await idle[0].GetStream().ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            Assert.Equal(0, read);
        }
        finally
        {
            idle.ForEach(static c => c.Dispose());
        }

        await stop.CancelAsync();
        await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task TenThousandIdleConnectionsAtTheCap_ThenAClientWithARequestGetsItsAnswer()
    {
        // serve as a process of its own, so that its ten thousand server-side sockets and the test's ten thousand
        // client-side ones each stay under this machine's descriptor limit (20,000 a process).
        await using var backends = await Backends.StartAsync(["127.0.7.77"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.77}", """
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: vm}
            spec: {host: helloworld.default.svc.cluster.local}
            """);
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "dynsubset.dll"), "serve", "-f", entry, "--listen", "http://127.0.7.9:0", "--max-connections", "10000", "--drain-time", "1ms" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var idle = new List<TcpClient>(10_000);
        try
        {
            var first = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken);
            var match = System.Text.RegularExpressions.Regex.Match(first!, @"listening on (http://127\.0\.7\.9:\d+/) ");
            Assert.True(match.Success, first);
            var gateway = new Uri(match.Groups[1].Value);
            for (var i = 0; i < 10_000; i++)
            {
                idle.Add(await Connect(gateway, "127.0.7.78"));
            }

            var asked = System.Diagnostics.Stopwatch.StartNew();
            using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
                request.Headers.Host = "helloworld";
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"answered {asked.ElapsedMilliseconds} ms after asking, with 10,000 idle connections at the cap");
        }
        finally
        {
            idle.ForEach(static c => c.Dispose());
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static async Task<TcpClient> Connect(Uri gateway, string from)
    {
        var client = new TcpClient(new IPEndPoint(IPAddress.Parse(from), 0));
        await client.ConnectAsync(IPAddress.Parse(gateway.Host), gateway.Port, TestContext.Current.CancellationToken);
        return client;
    }

    private static async Task<string> Get(TcpClient client) => await TryGet(client) ?? throw new IOException("the connection was closed");

    /// <summary>Sends a GET on the connection and returns the status code, or null when the connection is closed first; reads the whole response.</summary>
    private static async Task<string?> TryGet(TcpClient client)
    {
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync("GET / HTTP/1.1\r\nHost: helloworld\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            var received = new List<byte>();
            var buffer = new byte[4096];
            while (true)
            {
                var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
                if (read == 0)
                {
                    return null;
                }

                received.AddRange(buffer.AsSpan(0, read));
                var text = Encoding.ASCII.GetString([.. received]);
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0)
                {
                    continue;
                }

                var headers = text[..end].Split("\r\n");
                var length = headers.FirstOrDefault(static h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) is { } header
                    ? int.Parse(header["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)
                    : 0;
                var chunked = headers.Any(static h => h.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && h.Contains("chunked", StringComparison.OrdinalIgnoreCase));
                if (chunked ? text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal) : received.Count >= end + 4 + length)
                {
                    return text.Split(' ')[1];
                }
            }
        }
        catch (IOException)
        {
            return null;
        }
    }
}
