namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// What a file looks like from outside without reading it: the file a path finally leads to (through symbolic links,
/// as a Kubernetes ConfigMap mount's <c>..data</c> swap changes it), its length and its last write time.
/// </summary>
internal readonly record struct FileStamp(string Target, long Length, DateTime Written)
{
    /// <summary>A path that cannot be looked at (missing, a broken link): never equal to a stamp that was read.</summary>
    public static readonly FileStamp Missing = new("", -1, DateTime.MinValue);

    /// <summary>
    /// How much older than a read the file's last write must be for the stamp to stand for its content: a file system
    /// stamps writes with a coarse clock (a kernel tick on Linux), so a write just after a read can carry the same time
    /// as one just before it. Git's index treats such "racy" entries the same way.
    /// </summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    public static FileStamp Of(string path)
    {
        try
        {
            return RealPath(path) is { } real && new FileInfo(real) is { Exists: true } file ? new FileStamp(real, file.Length, file.LastWriteTimeUtc) : Missing;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Missing; // read it, and let the read report what is wrong
        }
    }

    /// <summary>
    /// The path with every symbolic link along it resolved, as <c>realpath(3)</c> gives it: a ConfigMap's file is a link
    /// into <c>..data</c>, itself a link to the current version's directory, so only the resolved path changes with an
    /// update. <see langword="null"/> past 40 links (a loop).
    /// </summary>
    private static string? RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var current = Path.GetPathRoot(full)!;
        var left = new Stack<string>();
        Push(left, full[current.Length..]);
        for (var links = 0; left.Count > 0;)
        {
            var part = left.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is not { } target)
            {
                current = next;
                continue;
            }

            if (++links > 40)
            {
                return null;
            }

            // The link's target takes its place: from the root if it is absolute, else from the link's directory.
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }

            Push(left, target);
        }

        return current;
    }

    /// <summary>Puts a relative path's parts on the stack so that its first part comes off first.</summary>
    private static void Push(Stack<string> left, string relative)
    {
        var parts = relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            left.Push(parts[i]);
        }
    }
}
