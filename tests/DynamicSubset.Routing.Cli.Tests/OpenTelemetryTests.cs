using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary>
/// <c>serve</c> as a real process with the standard <c>OTEL_*</c> variables: metrics and traces reach an OTLP/HTTP
/// receiver on loopback, and the admin listener serves Prometheus text with our instruments and ASP.NET Core's.
/// </summary>
public sealed partial class OpenTelemetryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-otel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Otlp_ReceivesMetricsAndTraces_AndPrometheusTextHasTheOutcomes()
    {
        // The receiver: what an OpenTelemetry collector's OTLP/HTTP endpoint is to serve, recording each POST's path.
        var received = new ConcurrentQueue<(string Path, string ContentType, long Length)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.7.61:0");
        builder.Logging.ClearProviders();
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext c) =>
        {
            using var body = new MemoryStream();
            await c.Request.Body.CopyToAsync(body);
            received.Enqueue((c.Request.Path.Value!, c.Request.ContentType ?? "", body.Length));
            return Results.Ok();
        });
        await collector.StartAsync(TestContext.Current.CancellationToken);

        await using var backends = await Backends.StartAsync(["127.0.7.62"]);
        var entry = Path.Combine(_dir, "se.yaml");
        await backends.WriteServiceEntryAsync(entry, "{address: 127.0.7.62, labels: {stage: dev, version: v1}}");
        var reference = Path.Combine(AppContext.BaseDirectory, "TestData", "reference");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "dynsubset.dll"), "serve", "-f", entry, "-f", Path.Combine(reference, "dr-no-fallback.yaml"), "-f", Path.Combine(reference, "vs-step2.yaml"),
                "--listen", "http://127.0.7.63:0", "--admin", "http://127.0.7.64:0", "--drain-time", "1ms",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Urls.First(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
                ["OTEL_SERVICE_NAME"] = "dynsubset-test",
            },
        };
        using var process = Process.Start(start)!;
        try
        {
            var match = Listening().Match((await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken))!);
            Assert.True(match.Success);
            var (gateway, admin) = (new Uri(match.Groups[1].Value), new Uri(match.Groups[2].Value));
            using var client = new HttpClient();
            foreach (var (stage, version, status) in new[] { ("dev", "v1", HttpStatusCode.OK), ("dev", "v1", HttpStatusCode.OK), ("prod", "v1", HttpStatusCode.ServiceUnavailable) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
                request.Headers.Add("x-stage", stage);
                request.Headers.Add("x-version", version);
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(status, response.StatusCode);
            }

            // Prometheus text on the admin listener: our counter by outcome, and ASP.NET Core's request duration.
            var text = await client.GetStringAsync(new Uri(admin, "/metrics"), TestContext.Current.CancellationToken);
            var resolutions = text.Split('\n').Where(static l => l.StartsWith("dynamic_subset_resolutions_total{", StringComparison.Ordinal)).ToList();
            Assert.Contains(resolutions, static l => l.Contains("dynamic_subset_outcome=\"matched\"", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));
            Assert.Contains(resolutions, static l => l.Contains("dynamic_subset_outcome=\"no_healthy_upstream\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
            Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);

            // OTLP: metrics and traces, as protobuf over HTTP.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            while (!(received.Any(static r => r.Path == "/v1/metrics" && r.Length > 0) && received.Any(static r => r.Path == "/v1/traces" && r.Length > 0)))
            {
                await Task.Delay(50, timeout.Token);
            }

            Assert.All(received, static r => Assert.Equal("application/x-protobuf", r.ContentType));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [GeneratedRegex(@"^dynsubset gateway listening on (http://127\.0\.7\.63:\d+/) .*; admin page on (http://127\.0\.7\.64:\d+/)")]
    private static partial Regex Listening();
}
