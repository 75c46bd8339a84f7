using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http.Tests;

/// <summary>One fake helloworld pod: a real Kestrel server on its own loopback address, replying as http-echo does.</summary>
internal sealed class Workload : IAsyncDisposable
{
    private WebApplication? _app;

    private Workload(string name, string ip, int port, string stage, string version)
    {
        Name = name;
        Ip = ip;
        Port = port;
        Stage = stage;
        Version = version;
    }

    public string Name { get; }

    public string Ip { get; }

    public int Port { get; }

    public string Stage { get; }

    public string Version { get; }

    public string Greeting => $"Welcome to helloworld stage: {Stage}, version: {Version}, ip: {Ip}";

    /// <summary>Gets or sets the status every request gets instead of the greeting; 0 (the default) for the greeting.</summary>
    public int FailWith { get; set; }

    /// <summary>Gets or sets a value indicating whether requests hang until the caller gives up.</summary>
    public bool Hang { get; set; }

    /// <summary>Gets how many requests reached this pod.</summary>
    public int Hits => Volatile.Read(ref _hits);

    private int _hits;

    public Endpoint ToEndpoint(string? stage = null) =>
        Endpoint.Create(Ip, Port, new Dictionary<string, string> { ["app"] = "helloworld", ["stage"] = stage ?? Stage, ["version"] = Version }, name: Name);

    public static async Task<Workload> StartAsync(string name, string ip, int port, string stage, string version)
    {
        var workload = new Workload(name, ip, port, stage, version);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{ip}:{port.ToString(CultureInfo.InvariantCulture)}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Map("/echo/{**rest}", async (HttpContext ctx) =>
        {
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            return $"{ctx.Request.Method} {ctx.Request.Path}{ctx.Request.QueryString} host={ctx.Request.Host} body={body} ip={ip}";
        });
        app.Map("/slow", async () =>
        {
            await Task.Delay(500);
            return workload.Greeting;
        });
        app.Map("/raw/{**rest}", (HttpContext ctx) =>
            $"{ctx.Request.Method} {ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget} " +
            $"x-note={ctx.Request.Headers["x-note"]} x-stage={ctx.Request.Headers["x-stage"]} ip={ip}");
        app.Map("/{**rest}", async (HttpContext ctx) =>
        {
            Interlocked.Increment(ref workload._hits);
            if (workload.Hang)
            {
                await Task.Delay(Timeout.Infinite, ctx.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
                return Results.Empty;
            }

            return workload.FailWith != 0 ? Results.Text("failing", statusCode: workload.FailWith) : Results.Text(workload.Greeting);
        });
        await app.StartAsync();
        workload._app = app;
        return workload;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Kills the pod: open connections are cut, requests in flight fail, new connections are refused.</summary>
    public async Task KillAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            using var now = new CancellationTokenSource();
            await now.CancelAsync();
            try
            {
                await app.StopAsync(now.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

/// <summary>The reference page's six pods on 127.0.{block}.11-16, port 5678; each test class takes its own block.</summary>
internal sealed class Helloworld : IAsyncDisposable
{
    public const int Port = 5678;

    private Helloworld(List<Workload> pods) => Pods = pods;

    public List<Workload> Pods { get; }

    public Workload this[string name] => Pods.Single(p => p.Name == name);

    public static async Task<Helloworld> StartAsync(int block)
    {
        (string Name, string Stage, string Version)[] topology =
        [
            ("dev-v1", "dev", "v1"), ("dev-v2", "dev", "v2"), ("dev-v3", "dev", "v3"),
            ("prod-v2", "prod", "v2"), ("prod-v3-a", "prod", "v3"), ("prod-v3-b", "prod", "v3"),
        ];
        var starts = topology.Select((t, i) => Workload.StartAsync(t.Name, $"127.0.{block}.{11 + i}", Port, t.Stage, t.Version)).ToList();
        try
        {
            return new Helloworld([.. await Task.WhenAll(starts)]);
        }
        catch
        {
            // One pod could not start (its address taken): stop the others, so that they do not hold theirs past the test.
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>The pods as <c>kubectl get pods -o yaml</c> would print them.</summary>
    public string PodListYaml()
    {
        var b = new StringBuilder("apiVersion: v1\nkind: List\nitems:\n");
        foreach (var p in Pods)
        {
            b.Append(CultureInfo.InvariantCulture, $"""
                - apiVersion: v1
                  kind: Pod
                  metadata:
                    name: helloworld-{p.Name}
                    namespace: default
                    labels: {"{"}app: helloworld, stage: {p.Stage}, version: {p.Version}{"}"}
                  spec:
                    containers: [{"{"}name: helloworld, ports: [{"{"}containerPort: {Port}{"}"}]{"}"}]
                  status:
                    podIP: {p.Ip}
                    conditions: [{"{"}type: Ready, status: "True"{"}"}]

                """);
        }

        return b.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pod in Pods)
        {
            await pod.DisposeAsync();
        }
    }
}
