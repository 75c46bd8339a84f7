using System.Net;
using System.Text.Json;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary><c>serve --log-format json</c>: every line on stdout and stderr is a JSON log object, the startup line and errors included.</summary>
public sealed class JsonLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Serve_EveryLineIsAJsonLogObject()
    {
        await using var backends = await Backends.StartAsync(["127.0.7.51"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.51, labels: {stage: dev, version: v1}}");
        var reference = Path.Combine(AppContext.BaseDirectory, "TestData", "reference");
        var (stdout, stderr) = (new SyncWriter(), new SyncWriter());
        using var stop = new CancellationTokenSource();
        var serve = Cli.RunAsync(
            ["serve", "-f", entry, "-f", Path.Combine(reference, "dr-no-fallback.yaml"), "-f", Path.Combine(reference, "vs-step2.yaml"), "--listen", "http://127.0.7.6:0", "--log-format", "json"],
            new CliOutput(stdout, stderr, color: false), stop.Token);
        var listening = await Until(() => stdout.Lines().FirstOrDefault());
        var url = System.Text.RegularExpressions.Regex.Match(JsonDocument.Parse(listening).RootElement.GetProperty("Message").GetString()!, @"listening on (\S+) ").Groups[1].Value;

        using (var client = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Get, url))
        {
            request.Headers.Add("x-stage", "prod");
            request.Headers.Add("x-version", "v1"); // NO_FALLBACK: no healthy upstream, logged as a warning
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        await Until(() => stderr.Lines().FirstOrDefault(l => l.Contains("NoHealthyUpstream", StringComparison.Ordinal)));
        await stop.CancelAsync();
        Assert.Equal(0, await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));

        var lines = stdout.Lines().Concat(stderr.Lines()).ToList();
        Assert.True(lines.Count >= 4, string.Join("\n", lines));
        foreach (var line in lines)
        {
            var json = JsonDocument.Parse(line).RootElement;
            Assert.True(json.TryGetProperty("Timestamp", out _), line);
            Assert.True(json.GetProperty("EventId").GetInt32() > 0, line);
            Assert.Contains(json.GetProperty("LogLevel").GetString(), new[] { "Information", "Warning", "Error" });
            Assert.False(string.IsNullOrEmpty(json.GetProperty("Category").GetString()), line);
            Assert.Equal(json.GetProperty("Message").GetString(), json.GetProperty("State").GetProperty("Message").GetString());
        }

        var warning = JsonDocument.Parse(lines.Single(l => l.Contains("NoHealthyUpstream", StringComparison.Ordinal))).RootElement;
        Assert.Equal("Warning", warning.GetProperty("LogLevel").GetString());
        Assert.Equal("No healthy upstream for {Service}: {Resolution}. ({Suppressed} more like it in the last second)", warning.GetProperty("State").GetProperty("{OriginalFormat}").GetString());
        Assert.Equal("dynsubset gateway stopping", JsonDocument.Parse(stdout.Lines()[^1]).RootElement.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task Serve_InvalidInput_IsAJsonErrorLine()
    {
        var (stdout, stderr) = (new SyncWriter(), new SyncWriter());

        var exit = await Cli.RunAsync(["serve", "-f", Path.Combine(_dir, "missing.yaml"), "--listen", "http://127.0.7.6:0", "--log-format", "json"], new CliOutput(stdout, stderr, color: false), TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        var error = JsonDocument.Parse(Assert.Single(stderr.Lines())).RootElement;
        Assert.Equal("Error", error.GetProperty("LogLevel").GetString());
        Assert.StartsWith($"{Path.Combine(_dir, "missing.yaml")}:1:1: cannot read the file", error.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Empty(stdout.Lines());
    }

    private static async Task<string> Until(Func<string?> read)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        string? found;
        while ((found = read()) is null)
        {
            await Task.Delay(10, timeout.Token);
        }

        return found;
    }

    /// <summary>A writer the test can read while the server writes to it.</summary>
    private sealed class SyncWriter : StringWriter
    {
        public string[] Lines()
        {
            lock (this)
            {
                return ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (this)
            {
                base.WriteLine(value);
            }
        }
    }
}
