namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// The endpoints a compile made for each (host, port) whose endpoints come from ServiceEntries' own endpoint lists
/// alone, kept for the next compile of the same document set: a reload whose ServiceEntry documents are the same
/// objects (their files unchanged, so not parsed again) takes those endpoints instead of making them again. Only
/// results made without a diagnostic are kept, so a reused result never hides a warning; the next compile keeps only
/// what it used.
/// </summary>
internal sealed class EndpointMemo
{
    private readonly Lock _lock = new(); // a set may be compiled from two threads at once (Compile is public); a hit is checked by reference either way
    private Dictionary<(string Host, int? Port), Entry> _kept = [];
    private Dictionary<(string Host, int? Port), Entry> _used = [];

    /// <summary>The endpoints kept for <paramref name="key"/>, if they were made from these very documents.</summary>
    public bool TryGet((string Host, int? Port) key, List<ServiceEntryDoc> inputs, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry)
    {
        lock (_lock)
        {
            if (_kept.TryGetValue(key, out entry) && entry.Inputs.Length == inputs.Count && SameObjects(entry.Inputs, inputs))
            {
                _used[key] = entry;
                return true;
            }

            entry = null;
            return false;
        }
    }

    public void Set((string Host, int? Port) key, Entry entry)
    {
        lock (_lock)
        {
            _used[key] = entry;
        }
    }

    /// <summary>Ends a compile: what it used or made is kept for the next, the rest let go.</summary>
    public void EndCompile()
    {
        lock (_lock)
        {
            _kept = _used;
            _used = [];
        }
    }

    private static bool SameObjects(ServiceEntryDoc[] kept, List<ServiceEntryDoc> inputs)
    {
        for (var i = 0; i < kept.Length; i++)
        {
            if (!ReferenceEquals(kept[i], inputs[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <param name="Inputs">The ServiceEntries that gave the endpoints, in document order.</param>
    /// <param name="Endpoints">The endpoints, in the order the compiler made them.</param>
    /// <param name="HasOtherEndpoints">Whether any endpoint came from a ServiceEntry (as the compiler records it).</param>
    internal sealed record Entry(ServiceEntryDoc[] Inputs, Endpoint[] Endpoints, bool HasOtherEndpoints);
}
