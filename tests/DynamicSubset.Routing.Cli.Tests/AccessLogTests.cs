using System.Net;
using System.Text.Json;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary><c>serve --access-log</c>: a line per request with its routing, through a rename (log rotation), replayable by <c>diff</c>.</summary>
public sealed class AccessLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AThousandRequestsOfMixedOutcomes_AThousandLines_ThroughARename()
    {
        await using var backends = await Backends.StartAsync(["127.0.7.41", "127.0.7.42"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.41, labels: {stage: dev, version: v1}}, {address: 127.0.7.42, labels: {stage: prod, version: v3}}", $$$"""
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: other}
            spec:
              hosts: [other.example.com]
              resolution: STATIC
              ports: [{number: 80, name: http, targetPort: {{{backends.Port}}}}]
              endpoints: [{address: 127.0.7.41}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: other}
            spec: {host: other.example.com}
            """);
        var reference = Path.Combine(AppContext.BaseDirectory, "TestData", "reference");
        string[] files = [entry, Path.Combine(reference, "dr-no-fallback.yaml"), Path.Combine(reference, "vs-step2.yaml")];
        var log = Path.Combine(_dir, "access.log");
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var serve = Serve.RunAsync(new CliOutput(new StringWriter(), new StringWriter(), color: false), files, new Uri("http://127.0.7.5:0"), null,
            ServeSettings.Default with { AccessLog = new AccessLogSettings(log, Query: false, RoutingHeaders: true) },
            stop.Token, (g, a) => started.TrySetResult((g, a)));
        var (gateway, _) = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        using var client = new HttpClient();
        (string Host, string Stage, string Version, HttpStatusCode Status, string Outcome)[] kinds =
        [
            ("helloworld", "dev", "v1", HttpStatusCode.OK, "matched"),
            ("helloworld", "prod", "v3", HttpStatusCode.OK, "matched"),
            ("helloworld", "prod", "v1", HttpStatusCode.ServiceUnavailable, "no healthy upstream"),
            ("nosuch.example", "dev", "v1", HttpStatusCode.NotFound, "no route"),
        ];
        for (var i = 0; i < 1000; i++)
        {
            if (i == 500)
            {
                File.Move(log, log + ".1"); // rotation: the writer reopens the path; lines already queued land in the old file
            }

            var kind = kinds[i % kinds.Length];
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, $"/items/{i}?page=2"));
            request.Headers.Add("x-stage", kind.Stage);
            request.Headers.Add("x-version", kind.Version);
            request.Headers.Host = kind.Host;

            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(kind.Status, response.StatusCode);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));

        string[] lines = [.. File.ReadAllLines(log + ".1"), .. File.ReadAllLines(log)];
        Assert.Equal(1000, lines.Length);
        Assert.True(File.ReadAllLines(log).Length > 0, "the writer reopened the path after the rename");
        var parsed = lines.Select(static l => JsonDocument.Parse(l).RootElement).OrderBy(static e => int.Parse(e.GetProperty("path").GetString()!["/items/".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        for (var i = 0; i < parsed.Count; i++)
        {
            var (line, kind) = (parsed[i], kinds[i % kinds.Length]);
            Assert.Equal($"/items/{i}", line.GetProperty("path").GetString()); // no query without --access-log-query
            Assert.Equal((int)kind.Status, line.GetProperty("status").GetInt32());
            Assert.Equal(kind.Outcome, line.GetProperty("outcome").GetString());
            Assert.Equal("GET", line.GetProperty("method").GetString());
            Assert.True(line.GetProperty("durationMs").GetDouble() >= 0);
            Assert.True(line.TryGetProperty("time", out _));
            Assert.Equal(kind.Status == HttpStatusCode.OK ? (kind.Stage == "dev" ? "127.0.7.41" : "127.0.7.42") + ":" + backends.Port : null, line.GetProperty("upstream").GetString());
            Assert.Equal(kind.Status == HttpStatusCode.OK ? 1 : 0, line.GetProperty("attempts").GetInt32());
            Assert.True(line.GetProperty("bytesSent").GetInt64() > 0);
            Assert.Equal(kind.Status == HttpStatusCode.NotFound ? null : "default", line.GetProperty("route").GetString());
            Assert.Equal(kind.Host, line.GetProperty("authority").GetString());
            Assert.Equal(kind.Status == HttpStatusCode.OK ? $"stage={kind.Stage}, version={kind.Version}" : null, line.GetProperty("subset").GetString());
            Assert.Equal(kind.Stage, line.GetProperty("headers").GetProperty("x-stage").GetString());
        }

        // Each line is a request line: diff replays the log against the same files (the Host names the service), and nothing moves.
        var known = Path.Combine(_dir, "known.log");
        await File.WriteAllLinesAsync(known, lines.Where(static l => !l.Contains("nosuch.example", StringComparison.Ordinal)), TestContext.Current.CancellationToken);
        var stdout = new StringWriter();
        var exit = await Cli.RunAsync(["diff", "--before", .. files, "--after", .. files, "--requests", known, "-o", "json"], new CliOutput(stdout, new StringWriter(), color: false), TestContext.Current.CancellationToken);
        Assert.Equal(0, exit);
        Assert.Equal(750, JsonDocument.Parse(stdout.ToString()).RootElement.GetProperty("services").EnumerateArray().Single().GetProperty("requests").GetProperty("total").GetInt32());
    }
}
