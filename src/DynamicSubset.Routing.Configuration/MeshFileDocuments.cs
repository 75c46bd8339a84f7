namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// The files a watcher follows, read into a <see cref="MeshDocumentSet"/> one file per entry. A reload looks at every
/// file but reads only those whose stamp (<see cref="FileStamp"/>: the file a path leads to, its length, its last write
/// time) changed since they were read, and parses only those whose text changed (by its SHA-256); then compiles the
/// set. A file with an error keeps its last good documents in the set, and its errors make the load's configuration
/// invalid, so the watcher rejects the reload as before. Not thread-safe: the watcher's reload lock serializes it.
/// </summary>
/// <remarks>
/// A stamp stands for the text read with it only when the file was last written well before the read
/// (<see cref="FileStamp.RacyWindow"/>): a write in the same tick of the file system's clock as the read could leave the
/// stamp as it was. Such a file is read again at the next reload, as is every file after <see cref="Forget"/>.
/// </remarks>
internal sealed class MeshFileDocuments(MeshConfigurationLimits limits)
{
    private readonly MeshDocumentSet _documents = new(limits);
    private readonly Dictionary<string, byte[]> _parsed = new(StringComparer.Ordinal); // path -> the SHA-256 of the text its documents came from, not the text: that would double what the files weigh in memory
    private readonly Dictionary<string, FileStamp> _unchangedWhile = new(StringComparer.Ordinal); // path -> a stamp that stands for that text

    /// <summary>Gets how many files the last <see cref="Load"/> read.</summary>
    public int LastRead { get; private set; }

    /// <summary>Reads the files whose stamps changed, parses the ones whose text changed, and compiles.</summary>
    /// <param name="paths">The files.</param>
    /// <param name="stamps">Their stamps, when the caller has just taken them (one per path, in order); else taken here.</param>
    public MeshConfiguration Load(IReadOnlyList<string> paths, IReadOnlyList<FileStamp>? stamps = null)
    {
        // Before any file is read: a write after the read is stamped no earlier than this, less a clock tick.
        var readAt = DateTime.UtcNow;
        var diagnostics = new List<ConfigurationDiagnostic>();
        var toRead = new List<string>(paths.Count);
        var taken = new Dictionary<string, FileStamp>(StringComparer.Ordinal);
        for (var i = 0; i < paths.Count; i++)
        {
            var path = paths[i];
            var stamp = stamps?[i] ?? FileStamp.Of(path);
            if (stamp != FileStamp.Missing && _unchangedWhile.TryGetValue(path, out var kept) && kept == stamp && _parsed.ContainsKey(path))
            {
                continue; // the file read last time, and its documents are in the set
            }

            taken[path] = stamp; // taken before the read: a write after it changes the stamp, or is racy
            toRead.Add(path);
        }

        LastRead = toRead.Count;
        foreach (var text in MeshConfiguration.Read(toRead, limits, diagnostics))
        {
            var digest = Digest(text.Content);
            if (!_parsed.TryGetValue(text.Name, out var known) || !known.AsSpan().SequenceEqual(digest))
            {
                var errors = _documents.Set(text.Name, text.Content);
                if (errors.Count > 0)
                {
                    diagnostics.AddRange(errors);
                    _unchangedWhile.Remove(text.Name);
                    continue;
                }

                _parsed[text.Name] = digest;
            }

            var stamp = taken[text.Name];
            if (stamp != FileStamp.Missing && stamp.Written < readAt - FileStamp.RacyWindow)
            {
                _unchangedWhile[text.Name] = stamp;
            }
            else
            {
                _unchangedWhile.Remove(text.Name); // written too recently to tell a later write by its stamp: read it again next time
            }
        }

        foreach (var unreadable in diagnostics)
        {
            _unchangedWhile.Remove(unreadable.File);
        }

        return _documents.CompileWith(diagnostics);
    }

    private static byte[] Digest(string text) =>
        System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(text.AsSpan()));

    /// <summary>Forgets every stamp, so that the next load reads every file (after the watcher may have lost events).</summary>
    public void Forget() => _unchangedWhile.Clear();
}
