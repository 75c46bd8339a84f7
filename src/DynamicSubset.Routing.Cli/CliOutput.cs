using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli;

/// <summary>
/// Where the CLI writes, whether it may use colour (only on a terminal, and not with NO_COLOR), and whether its log
/// and status lines are JSON objects (<c>serve --log-format json</c>).
/// </summary>
internal sealed class CliOutput(TextWriter @out, TextWriter error, bool color)
{
    /// <summary>The category of the CLI's own status and error lines in JSON.</summary>
    public const string Category = "DynamicSubset.Routing.Cli";

    public TextWriter Out { get; } = @out;

    public TextWriter Error { get; } = error;

    public bool Color { get; } = color;

    /// <summary>Gets a value indicating whether every line written is a JSON object, as Microsoft.Extensions.Logging's JSON console formatter writes one.</summary>
    public bool JsonLogs { get; private init; }

    public CliOutput WithJsonLogs() => new(Out, Error, color: false) { JsonLogs = true };

    /// <summary>A status line on standard output: plain text, or a JSON log object with this event id.</summary>
    public void Say(string message, int eventId, string eventName)
    {
        lock (Out)
        {
            Out.WriteLine(JsonLogs ? JsonLine(LogLevel.Information, new EventId(eventId, eventName), Category, message, null, null) : message);
        }
    }

    /// <summary>An error line on standard error: <c>dynsubset: message</c>, or a JSON log object.</summary>
    public void Complain(string message)
    {
        lock (Error)
        {
            Error.WriteLine(JsonLogs ? JsonLine(LogLevel.Error, new EventId(2, "InvalidInput"), Category, message, null, null) : $"dynsubset: {message}");
        }
    }

    /// <summary>
    /// One log entry as one line of JSON, in the shape of <c>AddJsonConsole()</c>'s formatter: <c>Timestamp</c>,
    /// <c>EventId</c>, <c>LogLevel</c>, <c>Category</c>, <c>Message</c>, <c>Exception</c> when there is one, and
    /// <c>State</c> with the message template's values and <c>{OriginalFormat}</c>.
    /// </summary>
    public static string JsonLine(LogLevel level, EventId eventId, string category, string message, IReadOnlyList<KeyValuePair<string, object?>>? state, Exception? exception)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("Timestamp", DateTimeOffset.UtcNow);
            w.WriteNumber("EventId", eventId.Id);
            if (eventId.Name is { } name)
            {
                w.WriteString("EventName", name);
            }

            w.WriteString("LogLevel", level.ToString());
            w.WriteString("Category", category);
            w.WriteString("Message", message);
            if (exception is not null)
            {
                w.WriteString("Exception", exception.ToString());
            }

            w.WriteStartObject("State");
            w.WriteString("Message", message);
            foreach (var (key, value) in state ?? [])
            {
                w.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static CliOutput FromConsole() => new(
        Console.Out,
        Console.Error,
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null && Environment.GetEnvironmentVariable("TERM") != "dumb");

    public string Green(string text) => Paint("32", text);

    public string Red(string text) => Paint("31", text);

    public string Yellow(string text) => Paint("33", text);

    public string Dim(string text) => Paint("2", text);

    public string Bold(string text) => Paint("1", text);

    private string Paint(string code, string text) => Color ? $"\u001b[{code}m{text}\u001b[0m" : text;
}

/// <summary>Aligned plain-text tables.</summary>
internal static class Table
{
    public static void Write(TextWriter writer, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string indent = "  ")
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var widths = new int[header.Count];
        foreach (var row in all)
        {
            for (var i = 0; i < row.Count; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in all)
        {
            var cells = row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]));
            writer.WriteLine((indent + string.Join("  ", cells)).TrimEnd());
        }
    }
}

/// <summary>The documented exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Success (for <c>resolve</c>, whatever each request's outcome).</summary>
    public const int Ok = 0;

    /// <summary><c>demo</c>: a step was not as expected; or an unexpected failure.</summary>
    public const int Failed = 1;

    /// <summary>Invalid input: usage, unreadable or invalid configuration, an invalid requests file.</summary>
    public const int InvalidInput = 2;
}

/// <summary>A user error: reported as one line on stderr, no stack trace, exit code 2.</summary>
internal sealed class CliException(string message) : Exception(message);
