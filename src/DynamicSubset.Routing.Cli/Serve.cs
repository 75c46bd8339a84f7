using System.Runtime.InteropServices;
using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace DynamicSubset.Routing.Cli;

/// <summary>What <c>dynsubset serve</c> may be told besides its files and addresses.</summary>
internal sealed record ServeSettings(TimeSpan PerTryTimeout, TimeSpan Timeout, int? MaxConnections, IReadOnlyList<System.Net.IPNetwork> TrustedNetworks)
{
    public static ServeSettings Default { get; } = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(45), null, []);

    /// <summary>Gets how long the listeners keep serving after SIGTERM or SIGINT, with <c>/readyz</c> answering 503, before they stop accepting.</summary>
    public TimeSpan DrainTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the most connections one client address may hold at once, or <see langword="null"/> for no such limit.</summary>
    public int? MaxConnectionsPerSource { get; init; }

    /// <summary>Gets where the access log goes, or <see langword="null"/> for none (the default).</summary>
    public AccessLogSettings? AccessLog { get; init; }

    /// <summary>Gets the gateway's listeners after the first: <c>http://</c>, <c>h2c://</c>, <c>https://</c>.</summary>
    public IReadOnlyList<Uri> MoreListeners { get; init; } = [];

    /// <summary>Gets the gateway's own workload labels, for VirtualService <c>match[].sourceLabels</c>.</summary>
    public IReadOnlyDictionary<string, string> SourceLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets the gateway's own locality, for DestinationRule <c>localityLbSetting</c>; <see langword="null"/> when unknown.</summary>
    public Locality? Locality { get; init; }

    /// <summary>Gets the certificate of the <c>https://</c> listeners, or <see langword="null"/> without one.</summary>
    public CertificateFiles? Certificate { get; init; }
}

/// <summary><c>dynsubset serve</c>: a dynamic subset gateway over mesh YAML files, reloaded live.</summary>
internal static partial class Serve
{
    private static bool s_handlesSignals;

    /// <summary>Gets a value indicating whether a running <c>serve</c> drains on SIGINT itself (Ctrl+C must not stop it at once).</summary>
    public static bool HandlesSignals => Volatile.Read(ref s_handlesSignals);

    public static Task<int> RunAsync(
        CliOutput output, string[] files, Uri listen, Uri? admin, ServeSettings settings, CancellationToken cancellationToken, Action<Uri, Uri?>? started = null) =>
        RunAsync(output, _ => Task.FromResult<RoutingCatalog>(new MeshConfigurationWatcher(files.Select(Path.GetFullPath), Logger<MeshConfigurationWatcher>(output))),
            listen, admin, settings, cancellationToken, started);

    /// <summary>Serves with a catalog from anywhere: files, or the cluster (<see cref="ClusterSettings"/>).</summary>
    public static async Task<int> RunAsync(
        CliOutput output, Func<CancellationToken, Task<RoutingCatalog>> source, Uri listen, Uri? admin, ServeSettings settings, CancellationToken cancellationToken, Action<Uri, Uri?>? started = null,
        Func<RoutingCatalog, CancellationToken, Task>? firstSync = null)
    {
        Uri[] listeners = [listen, .. settings.MoreListeners];
        if (admin is not null && listeners.Any(l => admin.Port == l.Port && admin.Port != 0 && admin.Host == l.Host))
        {
            throw new CliException("--admin must differ from --listen: the admin view never shares the traffic listener");
        }

        var secure = listeners.Any(static l => l.Scheme == Uri.UriSchemeHttps);
        if (secure != settings.Certificate is not null)
        {
            throw new CliException(secure ? "an https:// listener needs --cert (PEM with --key, or PKCS#12 alone)" : "--cert and --key go with an https:// listener");
        }

        // Read before anything else starts: a certificate that cannot be used is one line and exit 2.
        using var certificates = settings.Certificate is { } files ? CertificateStore.Open(files, Logger<CertificateStore>(output)) : null;

        // Loads now: invalid files are reported with file:line:column and exit 2 before anything listens. A cluster
        // syncs below, once the admin listener answers; one that cannot be reached is one line and exit 2.
        using var catalog = await source(cancellationToken);
        var maxConnections = settings.MaxConnections ?? DefaultMaxConnections();

        var drain = new DrainState();
        var bound = new List<(Uri Url, Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions Options)>();
        await using var gateway = Build(output, catalog, listeners, certificates, bound, maxConnections, settings, prometheus: admin is not null);
        gateway.Use(ConnectionCap.TrackRequest);
        await using var accessLog = settings.AccessLog is { } log ? new AccessLog(log, gateway.Services.GetRequiredService<Http.RoutingCatalogRegistry>()) : null;
        if (accessLog is not null)
        {
            gateway.Use(accessLog.InvokeAsync);
        }

        gateway.MapDynamicSubsetGateway();
        await using var adminApp = admin is null ? null : BuildAdmin(output, admin, gateway.Services, drain);
        Uri? adminListening = null;
        if (adminApp is not null)
        {
            adminApp.Use(OnlyOwnHost);
            MapProbes(adminApp);
            if (gateway.Services.GetService<MeterProvider>() is { } meters)
            {
                // The gateway's meters, scraped on the admin listener: Prometheus text at /metrics.
                adminApp.UseOpenTelemetryPrometheusScrapingEndpoint(meters, static c => c.Request.Path == "/metrics", null, null, null);
            }

            adminApp.MapGet("/", static () => Results.Redirect("/debug/dynamic-subsets/ui"));
            adminApp.MapDynamicSubsetDebug();
            adminListening = await StartAsync(adminApp, admin!, cancellationToken);
        }

        if (firstSync is not null)
        {
            // A source that syncs in the background (the cluster): the admin listener answers first, its /readyz 503
            // until the first sync; the gateway listens after it (or the sync times out: one line, exit 2).
            if (adminListening is not null)
            {
                output.Say($"dynsubset admin listening on {adminListening}; waiting for the first sync", 5, "WaitingForSync");
            }

            await firstSync(catalog, cancellationToken);
        }

        await StartAsync(gateway, listen, cancellationToken);
        var listening = bound.Select(static b => new UriBuilder(b.Url) { Port = b.Options.IPEndPoint!.Port }.Uri).ToList();

        var services = string.Join(", ", catalog.Current.Services.Select(static s => s.Name));
        output.Say($"dynsubset gateway listening on {string.Join(", ", listening)} for {services} (configuration version {catalog.Current.Version}, at most {maxConnections} connections)" +
            (adminListening is null ? "" : $"; admin page on {new Uri(adminListening, "/debug/dynamic-subsets/ui")}"), 1, "Listening");
        started?.Invoke(listening[0], adminListening);

        // SIGTERM or SIGINT drains: /readyz answers 503 at once, the listeners keep serving for the drain time (so a
        // load balancer takes the pod out before anything is refused), then stop accepting and let requests in flight
        // finish within --timeout. A second signal stops at once. The caller's token (tests, an embedding) stops at once.
        using var now = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var drainSignal = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // the process is not killed: it drains, and exits 0
            if (drain.IsDraining)
            {
                now.Cancel();
                return;
            }

            drain.Start();
            drainSignal.Cancel();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        Volatile.Write(ref s_handlesSignals, true);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(now.Token, drainSignal.Token);
        await Task.Delay(Timeout.Infinite, waiting.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
        if (drain.IsDraining && !now.IsCancellationRequested)
        {
            output.Say($"dynsubset gateway draining: /readyz answers 503; still serving for {settings.DrainTime.TotalSeconds:0.###}s", 3, "Draining");
            await Task.Delay(settings.DrainTime, now.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        Volatile.Write(ref s_handlesSignals, false);

        // Graceful: stop accepting, let requests in flight finish within the overall timeout (at once after a second signal).
        output.Say("dynsubset gateway stopping", 4, "Stopping");
        drain.Start();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(now.Token);
        deadline.CancelAfter(now.IsCancellationRequested && drainSignal.IsCancellationRequested ? TimeSpan.Zero : settings.Timeout);
        await gateway.StopAsync(deadline.Token);
        if (adminApp is not null)
        {
            await adminApp.StopAsync(CancellationToken.None);
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// Below the process's descriptor limit, with room for a connection to a backend per request and for the files:
    /// past it Kestrel refuses new connections and keeps serving the ones it has, instead of running out.
    /// </summary>
    internal static int DefaultMaxConnections()
    {
        const int reserve = 256;
        long limit = 65_536;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal) &&
                    long.TryParse(line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], out var soft))
                {
                    limit = soft;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: keep the default.
        }

        return (int)Math.Clamp((limit - reserve) / 2, 16, 100_000);
    }

    /// <summary>Starts listening; a port in use or an address that cannot be bound is one line and exit 2.</summary>
    private static async Task<Uri> StartAsync(WebApplication app, Uri url, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            var inUse = false;
            for (var inner = e; inner is not null; inner = inner.InnerException)
            {
                inUse |= inner is Microsoft.AspNetCore.Connections.AddressInUseException or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse };
            }

            var reason = inUse ? "the address is already in use" : e.GetBaseException().Message;
            throw new CliException($"cannot listen on {url.GetLeftPart(UriPartial.Authority)}: {reason}");
        }

        return new Uri(app.Urls.First());
    }

    /// <summary>
    /// The admin listener is an app of its own, so that its endpoints are never reachable through the traffic port;
    /// it shares the gateway's catalog, its decide-record-log step (recent decisions) and its meters (live numbers).
    /// </summary>
    private static WebApplication BuildAdmin(CliOutput output, Uri url, IServiceProvider gateway, DrainState drain)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url.GetLeftPart(UriPartial.Authority));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = 64);
        builder.Services.AddSingleton<IHostLifetime, SignalsHandledByServe>();
        ConfigureLogging(builder.Logging, output);
        builder.Services.AddDynamicSubsetAdminOf(gateway);
        builder.Services.AddHealthChecks()
            .AddDynamicSubsetHealthChecks(tags: [Ready])
            .AddCheck("drain", () => drain.IsDraining ? HealthCheckResult.Unhealthy("draining: the gateway is shutting down") : HealthCheckResult.Healthy(), tags: [Ready]);
        return builder.Build();
    }

    private const string Ready = "ready";

    internal const string PerSourceCategory = "DynamicSubset.Routing.Cli.Serve.PerSourceLimit";

    /// <summary>
    /// <c>--max-connections-per-source</c>: one client address may hold at most so many connections; past it a new one is
    /// closed at once, so that one client cannot take every connection the gateway has.
    /// </summary>
    private sealed partial class PerSourceLimit(int most, ILogger logger)
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<System.Net.IPAddress, int> _open = new();

        public Microsoft.AspNetCore.Connections.ConnectionDelegate Middleware(Microsoft.AspNetCore.Connections.ConnectionDelegate next) => async connection =>
        {
            if (connection.RemoteEndPoint is not System.Net.IPEndPoint { Address: var source })
            {
                await next(connection).ConfigureAwait(false);
                return;
            }

            var open = _open.AddOrUpdate(source, 1, static (_, n) => n + 1);
            try
            {
                if (open > most)
                {
                    Refused(logger, source, most);
                    connection.Abort();
                    return;
                }

                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                // Down by one; an address with none left is forgotten, so the map holds only addresses with connections.
                if (_open.AddOrUpdate(source, 0, static (_, n) => n - 1) <= 0)
                {
                    _open.TryRemove(new KeyValuePair<System.Net.IPAddress, int>(source, 0));
                }
            }
        };

        [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Refused a connection from {Source}: it holds {Most} already (--max-connections-per-source).")]
        private static partial void Refused(ILogger logger, System.Net.IPAddress source, int most);
    }

    /// <summary>The meters <c>serve</c> exports: routing's, its own (the access log), and ASP.NET Core's and HttpClient's standard ones.</summary>
    internal static readonly string[] Meters = [Http.RoutingTelemetryNames.Meter, "DynamicSubset.Routing.Cli", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http"];

    /// <summary>
    /// Metrics for Prometheus on the admin listener (<c>/metrics</c>), and OTLP export of metrics and traces when the
    /// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (with the other <c>OTEL_*</c> variables: protocol, headers,
    /// service name, intervals). Neither costs a request anything when it is off: no listener, no measurement.
    /// </summary>
    private static void AddOpenTelemetry(IServiceCollection services, bool prometheus)
    {
        var otlp = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        if (!prometheus && !otlp)
        {
            return;
        }

        var telemetry = services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(Meters);
            if (prometheus)
            {
                metrics.AddPrometheusExporter();
            }
        });
        if (otlp)
        {
            // Server spans carry the routing decision's tags; client spans are the tries sent to pods.
            telemetry.WithTracing(tracing => tracing.AddSource("Microsoft.AspNetCore", "System.Net.Http")).UseOtlpExporter();
        }
    }

    /// <summary>
    /// The admin listener answers only a Host that names it: an IP address or <c>localhost</c>. A web page whose DNS name
    /// was rebound to the loopback address sends its own name, and cannot read the admin JSON from an operator's browser.
    /// </summary>
    private static Task OnlyOwnHost(HttpContext context, RequestDelegate next)
    {
        var host = context.Request.Host.Host;
        if (host.Length > 0 && (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _)))
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
        context.Response.ContentType = "text/plain";
        var shown = host.Length <= 64 ? host : host[..64] + "...";
        return context.Response.WriteAsync($"the admin listener answers only its address or localhost, not the host '{shown}'\n");
    }

    /// <summary>
    /// <c>/healthz</c>: 200 while the process serves. <c>/readyz</c>: 200 once every catalog has synced (also while a
    /// source is unreachable and the last state serves), 503 with a one-line reason before that and from the moment a
    /// drain starts.
    /// </summary>
    private static void MapProbes(WebApplication admin)
    {
        admin.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = OneLine });
        admin.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = static r => r.Tags.Contains(Ready),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = OneLine,
        });

        static Task OneLine(HttpContext context, HealthReport report)
        {
            context.Response.ContentType = "text/plain";
            context.Response.Headers.CacheControl = "no-store";
            var worst = report.Entries.Values.Where(e => e.Status == report.Status && e.Status != HealthStatus.Healthy).Select(static e => e.Description).FirstOrDefault();
            return context.Response.WriteAsync(report.Status switch
            {
                HealthStatus.Healthy => "ok\n",
                HealthStatus.Degraded => $"ok, degraded: {worst}\n",
                _ => $"not ready: {worst}\n",
            });
        }
    }

    /// <summary>Whether a drain has started: from then on <c>/readyz</c> answers 503.</summary>
    private sealed class DrainState
    {
        private int _draining;

        public bool IsDraining => Volatile.Read(ref _draining) != 0;

        public void Start() => Volatile.Write(ref _draining, 1);
    }

    /// <summary>
    /// A host lifetime that leaves SIGTERM and SIGINT to <c>serve</c> (the default one stops the host at once, which
    /// would refuse requests sent in the moment before a load balancer notices).
    /// </summary>
    private sealed class SignalsHandledByServe : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static WebApplication Build(
        CliOutput output, RoutingCatalog catalog, Uri[] urls, CertificateStore? certificates, List<(Uri, Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions)> bound,
        int maxConnections, ServeSettings settings, bool prometheus)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (certificates is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves TLS out unless asked
        }

        var perSource = settings.MaxConnectionsPerSource is { } most ? new PerSourceLimit(most, Logger<PerSourceLimit>(output)) : null;
        var cap = new ConnectionCap(maxConnections, Logger<ConnectionCap>(output));
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var url in urls)
            {
                var address = url.IsLoopback && url.HostNameType == UriHostNameType.Dns ? System.Net.IPAddress.Loopback : System.Net.IPAddress.Parse(url.DnsSafeHost);
                k.Listen(address, url.Port, listen =>
                {
                    bound.Add((url, listen));
                    Listeners.Configure(listen, url, certificates);

                    // The cap first, so that a connection the per-source limit closes never counts; reclaiming needs both.
                    listen.Use(cap.Middleware);
                    if (perSource is not null)
                    {
                        listen.Use(perSource.Middleware);
                    }
                });
            }
        });
        builder.Services.AddSingleton<IHostLifetime, SignalsHandledByServe>();
        ConfigureLogging(builder.Logging, output);
        builder.Services.AddSingleton<RoutingCatalog>(catalog); // the one catalog, shared by the gateway and the admin view
        AddOpenTelemetry(builder.Services, prometheus);
        builder.Services.AddDynamicSubsetGateway(o =>
        {
            o.PerTryTimeout = settings.PerTryTimeout;
            o.Timeout = settings.Timeout;
            foreach (var network in settings.TrustedNetworks)
            {
                o.TrustedNetworks.Add(network);
            }

            foreach (var (key, value) in settings.SourceLabels)
            {
                o.SourceLabels[key] = value;
            }

            o.Locality = settings.Locality?.ToString();
        });
        return builder.Build();
    }

    internal static ILogger<T> Logger<T>(CliOutput output) =>
        LoggerFactory.Create(b => ConfigureLogging(b, output)).CreateLogger<T>();

    private static void ConfigureLogging(ILoggingBuilder logging, CliOutput output)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Yarp", LogLevel.Warning);

        // Hosting logs nothing here above Information, but while its category is enabled at all it starts an Activity
        // and a logging scope for every request (about a fifth of the gateway's throughput under wrk).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        // A probe answered 503 (not synced yet, draining) is the probe's answer, not an error of the process.
        logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None);
        logging.AddProvider(new LineLoggerProvider(output.Error, output.JsonLogs));
    }
}
