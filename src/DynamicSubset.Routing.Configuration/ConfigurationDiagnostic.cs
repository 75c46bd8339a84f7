namespace DynamicSubset.Routing.Configuration;

/// <summary>How serious a configuration diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>For information: for example, a document of a kind this library does not read was skipped.</summary>
    Info = 0,

    /// <summary>The configuration loads, but something in it is probably not what was meant.</summary>
    Warning = 1,

    /// <summary>The file is rejected whole.</summary>
    Error = 2,
}

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

/// <summary>Thrown when configuration is rejected; holds every diagnostic, errors first.</summary>
public sealed class MeshConfigurationException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="MeshConfigurationException"/> class.</summary>
    /// <param name="diagnostics">The diagnostics; at least one should be an error.</param>
    public MeshConfigurationException(IReadOnlyList<ConfigurationDiagnostic> diagnostics)
        : base(Describe(diagnostics))
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Gets the diagnostics.</summary>
    public IReadOnlyList<ConfigurationDiagnostic> Diagnostics { get; }

    private static string Describe(IReadOnlyList<ConfigurationDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var errors = diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        return errors.Count switch
        {
            0 => "The configuration was rejected.",
            1 => $"The configuration was rejected: {errors[0]}",
            _ => $"The configuration was rejected with {errors.Count} errors:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}",
        };
    }
}
