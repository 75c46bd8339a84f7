namespace DynamicSubset.Routing.Configuration;

/// <summary>Everything read from the files: documents by kind.</summary>
internal sealed class DocumentSet
{
    // Made on first use: a cluster keeps one set per object, and most objects fill one list of the seven.
    private List<MeshDocument>? _all;
    private List<DestinationRuleDoc>? _destinationRules;
    private List<VirtualServiceDoc>? _virtualServices;
    private List<ServiceDoc>? _services;
    private List<PodDoc>? _pods;
    private List<ServiceEntryDoc>? _serviceEntries;
    private List<WorkloadDoc>? _workloadEntries;

    public List<MeshDocument> All => _all ??= [];

    public List<DestinationRuleDoc> DestinationRules => _destinationRules ??= [];

    public List<VirtualServiceDoc> VirtualServices => _virtualServices ??= [];

    public List<ServiceDoc> Services => _services ??= [];

    public List<PodDoc> Pods => _pods ??= [];

    public List<ServiceEntryDoc> ServiceEntries => _serviceEntries ??= [];

    public List<WorkloadDoc> WorkloadEntries => _workloadEntries ??= [];

    public void AddRange(DocumentSet other)
    {
        // Reads the other set's fields, not its properties, so that merging never fills it with empty lists.
        Add(ref _all, other._all);
        Add(ref _destinationRules, other._destinationRules);
        Add(ref _virtualServices, other._virtualServices);
        Add(ref _services, other._services);
        Add(ref _pods, other._pods);
        Add(ref _serviceEntries, other._serviceEntries);
        Add(ref _workloadEntries, other._workloadEntries);
    }

    /// <summary>Removes every document whose identity matches, from each kind's list.</summary>
    public void RemoveWhere(Func<MeshDocument, bool> match)
    {
        _all?.RemoveAll(d => match(d));
        _destinationRules?.RemoveAll(d => match(d.Info));
        _virtualServices?.RemoveAll(d => match(d.Info));
        _services?.RemoveAll(d => match(d.Info));
        _pods?.RemoveAll(d => match(d.Info));
        _serviceEntries?.RemoveAll(d => match(d.Info));
        _workloadEntries?.RemoveAll(d => match(d.Info));
    }

    private static void Add<T>(ref List<T>? into, List<T>? from)
    {
        if (from is { Count: > 0 })
        {
            (into ??= []).AddRange(from);
        }
    }
}
