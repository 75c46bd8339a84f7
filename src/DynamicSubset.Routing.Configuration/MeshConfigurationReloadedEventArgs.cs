namespace DynamicSubset.Routing.Configuration;

/// <summary>The outcome of one reload.</summary>
/// <param name="succeeded">Whether the new configuration was applied.</param>
/// <param name="version">The configuration version serving after the reload.</param>
/// <param name="diagnostics">The reload's diagnostics.</param>
public sealed class MeshConfigurationReloadedEventArgs(bool succeeded, long version, IReadOnlyList<ConfigurationDiagnostic> diagnostics) : EventArgs
{
    /// <summary>Gets a value indicating whether the new configuration was applied.</summary>
    public bool Succeeded { get; } = succeeded;

    /// <summary>Gets the configuration version serving after the reload.</summary>
    public long Version { get; } = version;

    /// <summary>Gets the reload's diagnostics; for a rejected reload, its errors come first.</summary>
    public IReadOnlyList<ConfigurationDiagnostic> Diagnostics { get; } = diagnostics;
}
