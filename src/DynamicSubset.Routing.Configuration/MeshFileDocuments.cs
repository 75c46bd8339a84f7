namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// The files a watcher follows, read into a <see cref="MeshDocumentSet"/> one file per entry: a reload reads every file
/// but parses only those whose text changed (parsing is nine tenths of a reload's time), then compiles the set. A file
/// with an error keeps its last good documents in the set, and its errors make the load's configuration invalid, so
/// the watcher rejects the reload as before. Not thread-safe: the watcher's reload lock serializes it.
/// </summary>
internal sealed class MeshFileDocuments(MeshConfigurationLimits limits)
{
    private readonly MeshDocumentSet _documents = new(limits);
    private readonly Dictionary<string, string> _parsed = new(StringComparer.Ordinal); // path -> the text its documents came from

    /// <summary>Reads the files, parses the ones that changed, and compiles.</summary>
    public MeshConfiguration Load(IReadOnlyList<string> paths)
    {
        var diagnostics = new List<ConfigurationDiagnostic>();
        foreach (var text in MeshConfiguration.Read(paths, limits, diagnostics))
        {
            if (_parsed.TryGetValue(text.Name, out var known) && string.Equals(known, text.Content, StringComparison.Ordinal))
            {
                continue; // unchanged: its documents (and their warnings) are in the set already
            }

            var errors = _documents.Set(text.Name, text.Content);
            if (errors.Count == 0)
            {
                _parsed[text.Name] = text.Content;
            }
            else
            {
                diagnostics.AddRange(errors);
            }
        }

        return _documents.CompileWith(diagnostics);
    }
}
