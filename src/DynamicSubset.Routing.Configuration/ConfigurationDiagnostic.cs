namespace DynamicSubset.Routing.Configuration;

/// <summary>One error, warning or note about a configuration file, with its exact position.</summary>
/// <param name="Severity">How serious it is.</param>
/// <param name="Code">A stable identifier, for example <c>DSR1003</c>; documented in docs/configuration.md.</param>
/// <param name="File">The file's name as given, or the source's name.</param>
/// <param name="Line">The 1-based line.</param>
/// <param name="Column">The 1-based column.</param>
/// <param name="Path">The field path in the document, for example <c>spec.trafficPolicy.loadBalancer.simple</c>; empty for the whole document.</param>
/// <param name="Message">What is wrong, without the position or path.</param>
public sealed record ConfigurationDiagnostic(
    DiagnosticSeverity Severity,
    string Code,
    string File,
    int Line,
    int Column,
    string Path,
    string Message)
{
    /// <summary>Returns <c>file:line:column: path: message</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        Path.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Path}: {Message}";
}
