using System.Collections.Immutable;
using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// The mesh configuration read from YAML or JSON files: every service routed with dynamic subsets, and every
/// error, warning and note with its file, line and column.
/// </summary>
/// <remarks>
/// A file with an error is rejected whole: nothing of it is used, and <see cref="HasErrors"/> is set, so that a
/// caller keeps its last good configuration.
/// </remarks>
public sealed class MeshConfiguration
{
    private MeshConfiguration(ImmutableArray<MeshDocument> documents, ImmutableArray<MeshService> services, ImmutableArray<ConfigurationDiagnostic> diagnostics)
    {
        Documents = documents;
        Services = services;
        Diagnostics = diagnostics;
    }

    /// <summary>Gets the documents read from files without errors.</summary>
    public ImmutableArray<MeshDocument> Documents { get; }

    /// <summary>Gets the services routed with dynamic subsets, one per DestinationRule with a <c>dynamicSubset</c>.</summary>
    public ImmutableArray<MeshService> Services { get; }

    /// <summary>Gets every diagnostic: errors first, then warnings, then notes, each group in file order.</summary>
    public ImmutableArray<ConfigurationDiagnostic> Diagnostics { get; }

    /// <summary>Gets a value indicating whether any file was rejected.</summary>
    public bool HasErrors => Diagnostics.Any(static d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Reads YAML or JSON files, within the default <see cref="MeshConfigurationLimits"/>.</summary>
    /// <param name="paths">The files.</param>
    /// <returns>The configuration; check <see cref="HasErrors"/>.</returns>
    public static MeshConfiguration Load(IEnumerable<string> paths) => Load(paths, MeshConfigurationLimits.Default);

    /// <summary>Reads YAML or JSON files.</summary>
    /// <param name="paths">The files.</param>
    /// <param name="limits">What the reader accepts; past a limit is an error <c>DSR1009</c>.</param>
    /// <returns>The configuration; check <see cref="HasErrors"/>.</returns>
    public static MeshConfiguration Load(IEnumerable<string> paths, MeshConfigurationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(limits);
        var unreadable = new List<ConfigurationDiagnostic>();
        return Parse(Read(paths, limits, unreadable), unreadable, limits);
    }

    /// <summary>
    /// Reads files as <see cref="Load(IEnumerable{string}, MeshConfigurationLimits)"/> does, with candidate objects
    /// applied over them: an object of the candidate replaces the files' object of the same kind, namespace and name.
    /// </summary>
    internal static MeshConfiguration LoadWith(IEnumerable<string> paths, IEnumerable<ConfigurationText> candidate, MeshConfigurationLimits limits)
    {
        var diagnostics = new List<ConfigurationDiagnostic>();
        var accepted = new DocumentSet();
        foreach (var source in Read(paths, limits, diagnostics))
        {
            if (ParseOne(source, diagnostics, limits) is { } set)
            {
                accepted.AddRange(set);
            }
        }

        return Overlay(accepted, candidate, diagnostics, limits);
    }

    /// <summary>Applies candidate objects over accepted ones (same kind, namespace and name replace; the others are added), then compiles.</summary>
    internal static MeshConfiguration Overlay(DocumentSet accepted, IEnumerable<ConfigurationText> candidate, List<ConfigurationDiagnostic> diagnostics, MeshConfigurationLimits limits)
    {
        var overlay = new DocumentSet();
        foreach (var source in candidate)
        {
            if (ParseOne(source, diagnostics, limits) is { } set)
            {
                overlay.AddRange(set);
            }
        }

        var replaced = overlay.All.Select(static d => (d.Kind, d.Namespace, d.Name)).ToHashSet();
        accepted.RemoveWhere(d => replaced.Contains((d.Kind, d.Namespace, d.Name)));
        accepted.AddRange(overlay);
        return Compile(accepted, diagnostics, limits);
    }

    /// <summary>Reads files as texts; a file that cannot be read is reported in <paramref name="unreadable"/> and left out.</summary>
    internal static List<ConfigurationText> Read(IEnumerable<string> paths, MeshConfigurationLimits limits, List<ConfigurationDiagnostic> unreadable)
    {
        var sources = new List<ConfigurationText>();
        foreach (var path in paths)
        {
            try
            {
                sources.Add(new ConfigurationText(path, ReadBounded(path, limits.MaxFileBytes)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                unreadable.Add(new ConfigurationDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.Unreadable, path, 1, 1, "", $"cannot read the file: {e.Message}"));
            }
            catch (FileTooLargeException e)
            {
                unreadable.Add(new ConfigurationDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.Limit, path, 1, 1, "", e.Message));
            }
        }

        return sources;
    }


    /// <summary>Reads YAML or JSON text, within the default <see cref="MeshConfigurationLimits"/>.</summary>
    /// <param name="sources">The texts, each with the name to show in diagnostics.</param>
    /// <returns>The configuration; check <see cref="HasErrors"/>.</returns>
    public static MeshConfiguration Parse(IEnumerable<ConfigurationText> sources) => Parse(sources, MeshConfigurationLimits.Default);

    /// <summary>Reads YAML or JSON text.</summary>
    /// <param name="sources">The texts, each with the name to show in diagnostics.</param>
    /// <param name="limits">What the reader accepts; past a limit is an error <c>DSR1009</c>.</param>
    /// <returns>The configuration; check <see cref="HasErrors"/>.</returns>
    public static MeshConfiguration Parse(IEnumerable<ConfigurationText> sources, MeshConfigurationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(limits);
        return Parse(sources, [], limits);
    }

    /// <summary>Throws when any file was rejected.</summary>
    /// <exception cref="MeshConfigurationException">A file has an error.</exception>
    public void ThrowIfInvalid()
    {
        if (HasErrors)
        {
            throw new MeshConfigurationException(Diagnostics);
        }
    }

    /// <summary>Finds the service a host names: its own host, a VirtualService host, or a short name of either.</summary>
    /// <param name="host">The host, for example <c>helloworld</c>.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    public MeshService? FindService(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return Services.FirstOrDefault(s => s.Matches(host));
    }

    /// <summary>
    /// Builds every service of this configuration, VirtualService routes bound to their pools, into a catalog that
    /// routes as the files say and never reloads: for tools, tests and one-shot resolution.
    /// </summary>
    /// <param name="timeProvider">The clock for outlier detection; <see langword="null"/> for the system clock.</param>
    /// <returns>The catalog; it has no default service.</returns>
    /// <exception cref="MeshConfigurationException">The configuration has errors.</exception>
    public InMemoryRoutingCatalog CreateCatalog(TimeProvider? timeProvider = null)
    {
        ThrowIfInvalid();
        var resolvers = new MeshServiceResolvers(timeProvider ?? TimeProvider.System);
        return new InMemoryRoutingCatalog(resolvers.Publish(resolvers.Build(this), static s => $"{s.Namespace}/{s.RuleName}"), description: "mesh configuration");
    }

    private static MeshConfiguration Parse(IEnumerable<ConfigurationText> sources, List<ConfigurationDiagnostic> diagnostics, MeshConfigurationLimits limits)
    {
        var accepted = new DocumentSet();
        foreach (var source in sources)
        {
            if (ParseOne(source, diagnostics, limits) is { } set)
            {
                accepted.AddRange(set);
            }
        }

        return Compile(accepted, diagnostics, limits);
    }

    /// <summary>Reads one source; <see langword="null"/> when it has an error (reported in <paramref name="diagnostics"/>).</summary>
    internal static DocumentSet? ParseOne(ConfigurationText source, List<ConfigurationDiagnostic> diagnostics, MeshConfigurationLimits limits)
    {
        var reader = new DocumentReader(source.Name, diagnostics, limits);
        if (source.Content.Length > limits.MaxFileBytes)
        {
            reader.Report(DiagnosticSeverity.Error, DiagnosticCodes.Limit, new(1, 1), "",
                $"{source.Content.Length} characters, more than {limits.MaxFileBytes} (MeshConfigurationLimits.MaxFileBytes)");
            return null;
        }

        List<YamlNode> nodes;
        try
        {
            nodes = YamlTree.Parse(source.Content, limits);
        }
        catch (YamlSyntaxException e)
        {
            reader.Report(DiagnosticSeverity.Error, DiagnosticCodes.Syntax, e.Position, "", $"invalid YAML: {e.Message}");
            return null;
        }

        if (nodes.TrueForAll(static n => n is ScalarNode { IsNull: true }))
        {
            // An empty file is never meant: most often one caught between an editor's truncate and its write.
            reader.Report(DiagnosticSeverity.Error, DiagnosticCodes.Empty, new(1, 1), "", "the file holds no document");
            return null;
        }

        var set = new DocumentParser(reader).Parse(nodes);
        return reader.ErrorCount == 0 ? set : null;
    }

    /// <summary>Compiles accepted documents into services; <paramref name="diagnostics"/> gets the compiler's own.</summary>
    internal static MeshConfiguration Compile(DocumentSet accepted, List<ConfigurationDiagnostic> diagnostics, MeshConfigurationLimits limits, EndpointMemo? memo = null)
    {
        var services = new ServiceCompiler(accepted, diagnostics, limits, memo).Compile();
        memo?.EndCompile();
        var ordered = diagnostics
            .Select((d, i) => (d, i))
            .OrderByDescending(x => x.d.Severity)
            .ThenBy(x => x.i)
            .Select(x => x.d);
        return new MeshConfiguration([.. accepted.All], [.. services], [.. ordered]);
    }

    /// <summary>Reads a file, refusing one larger than <paramref name="maxBytes"/> before its content is loaded.</summary>
    private static string ReadBounded(string path, long maxBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > maxBytes)
        {
            throw new FileTooLargeException($"{stream.Length} bytes, more than {maxBytes} (MeshConfigurationLimits.MaxFileBytes)");
        }

        using var reader = new StreamReader(stream, detectEncodingFromByteOrderMarks: true);
        var text = reader.ReadToEnd();
        return text.Length > maxBytes
            ? throw new FileTooLargeException($"more than {maxBytes} bytes (MeshConfigurationLimits.MaxFileBytes); it grew while being read")
            : text;
    }

    private sealed class FileTooLargeException(string message) : Exception(message);
}
