using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>
/// The baseline of benchmarks/gateway-wrk.sh: YARP's <see cref="IHttpForwarder"/> with a hand-written switch on
/// <c>x-stage</c> and <c>x-version</c> (defaults <c>prod</c> and <c>v3</c>, round robin among the pods that match), the
/// least a gateway that routes like <c>dynsubset serve</c> could do. Not a BenchmarkDotNet class: a server that wrk loads.
/// </summary>
internal static class PlainForwarder
{
    /// <summary>Runs until stopped: <c>plain-forwarder --listen URL --pod stage/version/IP:PORT ...</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var listen = "http://127.0.0.1:18081";
        var pods = new List<(string Stage, string Version, string Prefix)>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--listen")
            {
                listen = args[i + 1];
            }
            else if (args[i] == "--pod" && args[i + 1].Split('/') is [var stage, var version, var address])
            {
                pods.Add((stage, version, $"http://{address}"));
            }
        }

        var table = pods.GroupBy(static p => (p.Stage, p.Version)).ToDictionary(static g => g.Key, static g => g.Select(static p => p.Prefix).ToArray());
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(listen);
        builder.Logging.ClearProviders();
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        });
        var next = 0;
        app.Map("/{**rest}", async (HttpContext context) =>
        {
            var headers = context.Request.Headers;
            var stage = headers["x-stage"] is { Count: > 0 } s ? s.ToString() : "prod";
            var version = headers["x-version"] is { Count: > 0 } v ? v.ToString() : "v3";
            if (!table.TryGetValue((stage, version), out var prefixes))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsync("no healthy upstream");
                return;
            }

            var prefix = prefixes[(int)((uint)Interlocked.Increment(ref next) % (uint)prefixes.Length)];
            await forwarder.SendAsync(context, prefix, invoker);
        });
        await app.RunAsync();
        return 0;
    }
}
