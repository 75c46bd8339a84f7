using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli;

/// <summary>
/// The CLI's log lines on stderr: reloads, rejected edits with file:line, no healthy upstream. One line per entry, as
/// <c>HH:mm:ss level: message</c>, or with <c>--log-format json</c> one JSON object in the shape of
/// <c>AddJsonConsole()</c>'s (<see cref="CliOutput.JsonLine"/>).
/// </summary>
internal sealed class LineLoggerProvider(TextWriter writer, bool json) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new LineLogger(writer, categoryName, json);

    public void Dispose()
    {
    }

    private sealed class LineLogger(TextWriter writer, string category, bool json) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!Collapse.ShouldWrite(category, eventId, out var suppressed))
            {
                return;
            }

            var message = formatter(state, exception) + Collapse.Suffix(suppressed);
            var line = json
                ? CliOutput.JsonLine(logLevel, eventId, category, message, state as IReadOnlyList<KeyValuePair<string, object?>>, exception)
                : $"{DateTimeOffset.Now:HH:mm:ss} {logLevel switch { LogLevel.Error or LogLevel.Critical => "error", LogLevel.Warning => "warn", _ => "info" }}: {message}";
            lock (writer)
            {
                writer.WriteLine(line);
            }
        }
    }

    /// <summary>
    /// Kestrel's per-connection warnings (a connection refused at the cap, a bad request line) at most once a second
    /// per kind, with how many were left out, as routing's own warnings are: a flood of connections writes a line a
    /// second, not a line a connection.
    /// </summary>
    private static class Collapse
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Window> Windows = new(StringComparer.Ordinal);

        public static bool ShouldWrite(string category, EventId eventId, out int suppressed)
        {
            suppressed = 0;
            if (!category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) && category is not Serve.PerSourceCategory and not "DynamicSubset.Routing.Cli.ConnectionCap")
            {
                return true;
            }

            var window = Windows.GetOrAdd($"{category}/{eventId.Id}", static _ => new Window());
            var second = Environment.TickCount64 / 1000;
            lock (window)
            {
                if (window.Second == second)
                {
                    window.Suppressed++;
                    return false;
                }

                (suppressed, window.Second, window.Suppressed) = (window.Suppressed, second, 0);
                return true;
            }
        }

        public static string Suffix(int suppressed) => suppressed == 0 ? "" : $" ({suppressed} more like it in the last second)";

        private sealed class Window
        {
            public long Second = -1;
            public int Suppressed;
        }
    }
}
