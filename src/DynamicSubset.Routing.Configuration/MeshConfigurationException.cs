namespace DynamicSubset.Routing.Configuration;

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
