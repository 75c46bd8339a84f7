namespace DynamicSubset.Routing.Cli;

/// <summary>Where the CLI writes, and whether it may use colour (only on a terminal, and not with NO_COLOR).</summary>
internal sealed class CliOutput(TextWriter @out, TextWriter error, bool color)
{
    public TextWriter Out { get; } = @out;

    public TextWriter Error { get; } = error;

    public bool Color { get; } = color;

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
