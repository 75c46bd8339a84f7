using System.Collections.Immutable;
using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>A named piece of configuration text: a file's name and its content.</summary>
/// <param name="Name">The name shown in diagnostics, usually the file's path.</param>
/// <param name="Content">The YAML or JSON text; several documents may be separated by <c>---</c>.</param>
public readonly record struct ConfigurationText(string Name, string Content);

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

    /// <summary>Reads YAML or JSON files.</summary>
    /// <param name="paths">The files.</param>
    /// <returns>The configuration; check <see cref="HasErrors"/>.</returns>
    public static MeshConfiguration Load(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var sources = new List<ConfigurationText>();
        var unreadable = new List<ConfigurationDiagnostic>();
        foreach (var path in paths)
        {
            try
            {
                sources.Add(new ConfigurationText(path, File.ReadAllText(path)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                unreadable.Add(new ConfigurationDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.Unreadable, path, 1, 1, "", $"cannot read the file: {e.Message}"));
            }
        }

        return Parse(sources, unreadable);
    }

    /// <summary>Reads YAML or JSON text.</summary>
    /// <param name="sources">The texts, each with the name to show in diagnostics.</param>
    /// <returns>The configuration; check <see cref="HasErrors"/>.</returns>
    public static MeshConfiguration Parse(IEnumerable<ConfigurationText> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        return Parse(sources, []);
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

    private static MeshConfiguration Parse(IEnumerable<ConfigurationText> sources, List<ConfigurationDiagnostic> diagnostics)
    {
        var accepted = new DocumentSet();
        foreach (var source in sources)
        {
            var reader = new DocumentReader(source.Name, diagnostics);
            List<YamlNode> nodes;
            try
            {
                nodes = YamlTree.Parse(source.Content);
            }
            catch (YamlSyntaxException e)
            {
                reader.Report(DiagnosticSeverity.Error, DiagnosticCodes.Syntax, e.Position, "", $"invalid YAML: {e.Message}");
                continue;
            }

            var set = new DocumentParser(reader).Parse(nodes);
            if (reader.ErrorCount == 0)
            {
                accepted.AddRange(set);
            }
        }

        var services = new ServiceCompiler(accepted, diagnostics).Compile();
        var ordered = diagnostics
            .Select((d, i) => (d, i))
            .OrderByDescending(x => x.d.Severity)
            .ThenBy(x => x.i)
            .Select(x => x.d);
        return new MeshConfiguration([.. accepted.All], [.. services], [.. ordered]);
    }
}
