namespace DynamicSubset.Routing.Configuration;

/// <summary>A rejected reload: when, and why.</summary>
/// <param name="At">When the reload was rejected.</param>
/// <param name="Errors">The errors, each with file:line:column.</param>
public sealed record MeshConfigurationError(DateTimeOffset At, IReadOnlyList<ConfigurationDiagnostic> Errors);
