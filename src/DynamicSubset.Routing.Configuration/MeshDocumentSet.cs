namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// Mesh documents that change one object at a time (as a cluster's watch delivers them), each kept by name and read
/// once when it changes; <see cref="Compile"/> turns the current set into services.
/// </summary>
/// <remarks>
/// An object whose new version has an error is rejected alone: <see cref="Set"/> returns the errors and its last good
/// version stays in the set, so one broken DestinationRule never takes the others down. Not thread-safe: one writer.
/// </remarks>
public sealed class MeshDocumentSet
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly MeshConfigurationLimits _limits;

    /// <summary>Initializes a new instance of the <see cref="MeshDocumentSet"/> class.</summary>
    /// <param name="limits">What the reader accepts; <see langword="null"/> for the defaults.</param>
    public MeshDocumentSet(MeshConfigurationLimits? limits = null) => _limits = limits ?? MeshConfigurationLimits.Default;

    /// <summary>Gets how many objects the set holds.</summary>
    public int Count => _entries.Count;

    /// <summary>Sets an object's YAML or JSON, read now.</summary>
    /// <param name="name">The object's name in diagnostics, for example <c>DestinationRule default/helloworld</c>; also its key.</param>
    /// <param name="content">The object as YAML or JSON.</param>
    /// <returns>The object's errors; when there are any, its last good version (if any) stays in the set.</returns>
    public IReadOnlyList<ConfigurationDiagnostic> Set(string name, string content)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(content);
        var diagnostics = new List<ConfigurationDiagnostic>();
        var set = MeshConfiguration.ParseOne(new ConfigurationText(name, content), diagnostics, _limits);
        if (set is null)
        {
            return [.. diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error)];
        }

        _entries[name] = new Entry(set, diagnostics);
        return [];
    }

    /// <summary>Removes an object.</summary>
    /// <param name="name">The object's name.</param>
    /// <returns><see langword="true"/> if it was in the set.</returns>
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _entries.Remove(name);
    }

    /// <summary>Compiles the set: every object's last good version, into services.</summary>
    /// <returns>The configuration; errors found only across objects (two DestinationRules for one host, a limit) set <see cref="MeshConfiguration.HasErrors"/>.</returns>
    public MeshConfiguration Compile()
    {
        var accepted = new DocumentSet();
        var diagnostics = new List<ConfigurationDiagnostic>();
        foreach (var entry in _entries.Values)
        {
            accepted.AddRange(entry.Documents);
            diagnostics.AddRange(entry.Diagnostics);
        }

        return MeshConfiguration.Compile(accepted, diagnostics, _limits);
    }

    private sealed record Entry(DocumentSet Documents, List<ConfigurationDiagnostic> Diagnostics);
}
