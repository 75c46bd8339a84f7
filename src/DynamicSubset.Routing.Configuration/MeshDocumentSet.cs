using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// Mesh documents that change one object at a time (as a cluster's watch delivers them), each kept by name and read
/// once when it changes; <see cref="Compile()"/> turns the current set into services.
/// </summary>
/// <remarks>
/// An object whose new version has an error is rejected alone: <see cref="Set"/> returns the errors and its last good
/// version stays in the set, so one broken DestinationRule never takes the others down. Not thread-safe: one writer.
/// </remarks>
public sealed class MeshDocumentSet
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // How many pods have each IP (normalized): a pod change whose address another pod shares is compiled, not applied alone.
    private readonly Dictionary<string, int> _podsByIp = new(StringComparer.Ordinal);
    private readonly MeshConfigurationLimits _limits;

    // What the last compile of this set made for hosts fed by ServiceEntries alone (a copy starts its own).
    private readonly EndpointMemo _endpoints = new();

    /// <summary>What a pod from facts has instead of its YAML tree: only the position is ever read, and it is 1:1.</summary>
    private static readonly ScalarNode NoNode = new(new(1, 1), "", quoted: false);

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

        _entries[name] = new Entry(set, null, diagnostics.Count == 0 ? null : diagnostics);
        return [];
    }

    /// <summary>
    /// Sets a pod from facts a source has already read (a cluster's typed objects), without reading YAML: what a Pod
    /// document gives the compiler, and nothing else. The same checks apply as to a Pod document.
    /// </summary>
    /// <param name="name">The object's name in diagnostics, for example <c>Pod default/helloworld-1</c>; also its key.</param>
    /// <param name="pod">The pod.</param>
    /// <returns>The pod's errors; when there are any, its last good version (if any) stays in the set.</returns>
    public IReadOnlyList<ConfigurationDiagnostic> SetPod(string name, PodFacts pod)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pod);
        // The labels become the one set the pod's document and endpoints share; making it is the one check of keys and values.
        LabelSet labels;
        try
        {
            labels = LabelSet.Create(pod.Labels);
        }
        catch (RoutingValidationException e)
        {
            return [new ConfigurationDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.InvalidValue, name, 1, 1, "metadata." + DocumentReader.Shorten(e.FieldPath), e.Reason)];
        }

        var errors = new List<ConfigurationDiagnostic>();
        var max = _limits.MaxLabelLength;
        foreach (var (key, value) in labels)
        {
            if (key.Length > max || value.Length > max)
            {
                errors.Add(new ConfigurationDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.Limit, name, 1, 1, $"metadata.labels['{DocumentReader.Shorten(key)}']",
                    $"a label longer than {max} characters (MeshConfigurationLimits.MaxLabelLength)"));
            }
        }

        foreach (var port in pod.ContainerPorts)
        {
            if (port.Number is < 1 or > 65535)
            {
                errors.Add(new ConfigurationDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.InvalidValue, name, 1, 1, "spec.containers[].ports[].containerPort",
                    $"{port.Number} is out of range (expected 1 to 65535)"));
            }
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        if (pod.Ips.Count == 0)
        {
            // As for a Pod document: a pod without an IP yet is no endpoint.
            Remove(name);
            return [];
        }

        var info = new MeshDocument("Pod", "v1", pod.Name, pod.Namespace, name, 1);
        var doc = new PodDoc(info, labels,
            [.. pod.Ips], pod.Ready, [.. pod.ContainerPorts.Select(static p => (p.Name, p.Number))], NoNode);
        Track(_entries.GetValueOrDefault(name)?.Pod, -1);
        _entries[name] = new Entry(null, doc, null);
        Track(doc, +1);
        return [];
    }

    /// <summary>
    /// Sets a pod (or removes it, when <paramref name="pod"/> is <see langword="null"/>) and says what that does to each
    /// service of <paramref name="compiled"/>, a compile of this set's rules: the endpoints the pod's previous version gave
    /// the service, and those its new version gives, made as the compiler makes them. A source whose change is pods only
    /// applies these to the services' indexes instead of compiling every pod again. It must still compile when another
    /// endpoint holds an address a pod takes (the compiler keeps the first of two), or a limit is passed.
    /// </summary>
    /// <param name="name">The pod's key, as for <see cref="SetPod(string, PodFacts)"/>.</param>
    /// <param name="pod">The pod, or <see langword="null"/> when it was deleted.</param>
    /// <param name="compiled">The services compiled from this set (pods aside, the same rules).</param>
    /// <param name="changes">Receives one entry per service the pod's endpoints were or are in.</param>
    /// <returns>The pod's errors; when there are any, its last good version stays and nothing is added to <paramref name="changes"/>.</returns>
    public IReadOnlyList<ConfigurationDiagnostic> SetPod(string name, PodFacts? pod, MeshConfiguration compiled, ICollection<PodEndpointChange> changes)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(changes);
        var before = _entries.GetValueOrDefault(name)?.Pod;
        if (pod is null)
        {
            Remove(name);
        }
        else if (SetPod(name, pod) is { Count: > 0 } errors)
        {
            return errors;
        }

        var after = _entries.GetValueOrDefault(name)?.Pod;
        if (before is null && after is null)
        {
            return [];
        }

        var podName = (after ?? before)!.Info.Name;
        var shared = Shared((before?.Ips ?? []).Concat(after?.Ips ?? []), after);
        foreach (var service in compiled.Services)
        {
            if (service.PodSources.IsEmpty)
            {
                continue;
            }

            var was = service.EndpointsOf(before);
            var now = service.EndpointsOf(after);
            if (was.Count > 0 || now.Count > 0)
            {
                changes.Add(new PodEndpointChange(service.Host, podName, was, now) { SharesAnAddress = shared || service.HasOtherEndpoints });
            }
        }

        return [];
    }

    /// <summary>Removes an object.</summary>
    /// <param name="name">The object's name.</param>
    /// <returns><see langword="true"/> if it was in the set.</returns>
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_entries.Remove(name, out var entry))
        {
            return false;
        }

        Track(entry.Pod, -1);
        return true;
    }

    private void Track(PodDoc? pod, int delta)
    {
        foreach (var ip in pod?.Ips ?? [])
        {
            var key = IpKey(ip);
            var count = _podsByIp.GetValueOrDefault(key) + delta;
            if (count > 0)
            {
                _podsByIp[key] = count;
            }
            else
            {
                _podsByIp.Remove(key);
            }
        }
    }

    private static string IpKey(string ip) => System.Net.IPAddress.TryParse(ip, out var parsed) ? parsed.ToString() : ip;

    /// <summary>Whether a pod other than <paramref name="pod"/> (as it is now in the set) has one of <paramref name="ips"/>.</summary>
    private bool Shared(IEnumerable<string> ips, PodDoc? pod) =>
        ips.Any(ip => _podsByIp.GetValueOrDefault(IpKey(ip)) - (pod is not null && pod.Ips.Exists(p => IpKey(p) == IpKey(ip)) ? 1 : 0) > 0);

    /// <summary>Copies the set: the copy shares the documents already read, and changes apart from this one.</summary>
    /// <returns>The copy.</returns>
    public MeshDocumentSet Copy()
    {
        var copy = new MeshDocumentSet(_limits);
        foreach (var (name, entry) in _entries)
        {
            copy._entries[name] = entry;
        }

        foreach (var (ip, count) in _podsByIp)
        {
            copy._podsByIp[ip] = count;
        }

        return copy;
    }

    /// <summary>
    /// Compiles the set as it would be with files applied over it, changing nothing: an object of the files replaces
    /// the set's object of the same kind, namespace and name; the others are added (what <c>dynsubset diff
    /// --kubernetes</c> predicts).
    /// </summary>
    /// <param name="paths">The files.</param>
    /// <returns>The configuration; a file's errors set <see cref="MeshConfiguration.HasErrors"/>, with their positions.</returns>
    public MeshConfiguration Compile(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var diagnostics = new List<ConfigurationDiagnostic>();
        var texts = MeshConfiguration.Read(paths, _limits, diagnostics);
        return MeshConfiguration.Overlay(Accepted(diagnostics), texts, diagnostics, _limits);
    }

    /// <summary>Compiles the set as it would be with candidate objects applied over it, changing nothing (as <see cref="Compile(IEnumerable{string})"/>).</summary>
    /// <param name="candidate">The candidate objects' texts, each with the name to show in diagnostics.</param>
    /// <returns>The configuration; the candidate's errors set <see cref="MeshConfiguration.HasErrors"/>, with their positions.</returns>
    public MeshConfiguration Compile(IEnumerable<ConfigurationText> candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var diagnostics = new List<ConfigurationDiagnostic>();
        return MeshConfiguration.Overlay(Accepted(diagnostics), candidate, diagnostics, _limits);
    }

    /// <summary>Compiles the set: every object's last good version, into services.</summary>
    /// <returns>The configuration; errors found only across objects (two DestinationRules for one host, a limit) set <see cref="MeshConfiguration.HasErrors"/>.</returns>
    public MeshConfiguration Compile() => CompileWith([]);

    /// <summary>Compiles the set, with diagnostics found before (a file that could not be read or parsed) reported first.</summary>
    internal MeshConfiguration CompileWith(List<ConfigurationDiagnostic> diagnostics) =>
        MeshConfiguration.Compile(Accepted(diagnostics), diagnostics, _limits, _endpoints);

    private DocumentSet Accepted(List<ConfigurationDiagnostic> diagnostics)
    {
        var accepted = new DocumentSet();
        foreach (var entry in _entries.Values)
        {
            if (entry.Documents is { } documents)
            {
                accepted.AddRange(documents);
            }
            else
            {
                accepted.All.Add(entry.Pod!.Info);
                accepted.Pods.Add(entry.Pod);
            }

            if (entry.Diagnostics is { } kept)
            {
                diagnostics.AddRange(kept);
            }
        }

        return accepted;
    }

    /// <summary>One object: its documents, or (the common case in a cluster) one pod kept compact.</summary>
    private sealed record Entry(DocumentSet? Documents, PodDoc? Pod, List<ConfigurationDiagnostic>? Diagnostics);
}
