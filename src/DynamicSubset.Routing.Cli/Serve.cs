using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli;

/// <summary><c>dynsubset serve</c>: a dynamic subset gateway over mesh YAML files, reloaded live.</summary>
internal static class Serve
{
    public static async Task<int> RunAsync(CliOutput output, string[] files, Uri listen, Uri? admin, CancellationToken cancellationToken, Action<string>? started = null)
    {
        if (admin is not null && admin.Port == listen.Port && admin.Host == listen.Host)
        {
            throw new CliException("--admin must differ from --listen");
        }

        // Loads now: invalid files are reported with file:line:column and exit 2, before anything listens.
        using var watcher = new MeshConfigurationWatcher(files.Select(Path.GetFullPath), Logger<MeshConfigurationWatcher>(output));

        await using var gateway = Build(output, watcher, listen);
        gateway.MapDynamicSubsetGateway();
        await gateway.StartAsync(cancellationToken);
        await using var adminApp = admin is null ? null : Build(output, watcher, admin);
        if (adminApp is not null)
        {
            adminApp.MapDynamicSubsetDebug();
            await adminApp.StartAsync(cancellationToken);
        }

        var services = string.Join(", ", watcher.Current.Services.Select(static s => s.Host));
        output.Out.WriteLine($"dynsubset gateway listening on {listen} for {services} (configuration version {watcher.Version})" +
            (admin is null ? "" : $"; debug view on {new Uri(admin, "/debug/dynamic-subsets")}"));
        started?.Invoke(services);

        // Ctrl+C (the CLI's token) or SIGTERM (the host's lifetime) both end it.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, gateway.Lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }

        // Graceful: stop accepting, let requests in flight finish.
        output.Out.WriteLine("dynsubset gateway stopping");
        await gateway.StopAsync(CancellationToken.None);
        if (adminApp is not null)
        {
            await adminApp.StopAsync(CancellationToken.None);
        }

        return ExitCodes.Ok;
    }

    private static WebApplication Build(CliOutput output, MeshConfigurationWatcher watcher, Uri url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url.GetLeftPart(UriPartial.Authority));
        ConfigureLogging(builder.Logging, output);
        builder.Services.AddSingleton(watcher);
        builder.Services.AddDynamicSubsetGateway(watcher.Paths);
        return builder.Build();
    }

    private static ILogger<T> Logger<T>(CliOutput output) =>
        LoggerFactory.Create(b => ConfigureLogging(b, output)).CreateLogger<T>();

    private static void ConfigureLogging(ILoggingBuilder logging, CliOutput output)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Yarp", LogLevel.Warning);
        logging.AddProvider(new LineLoggerProvider(output.Error));
    }

    /// <summary>One line per log entry on stderr: reloads, rejected edits with file:line, no healthy upstream.</summary>
    private sealed class LineLoggerProvider(TextWriter writer) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new LineLogger(writer);

        public void Dispose()
        {
        }

        private sealed class LineLogger(TextWriter writer) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var level = logLevel switch
                {
                    LogLevel.Error or LogLevel.Critical => "error",
                    LogLevel.Warning => "warn",
                    _ => "info",
                };
                lock (writer)
                {
                    writer.WriteLine($"{DateTimeOffset.Now:HH:mm:ss} {level}: {formatter(state, exception)}");
                }
            }
        }
    }
}
