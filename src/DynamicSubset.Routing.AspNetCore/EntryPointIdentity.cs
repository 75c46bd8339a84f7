namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// Who an entry point (a gateway, a proxy) routes as: its workload's labels, for VirtualService
/// <c>match[].sourceLabels</c>, and its locality, for <c>localityLbSetting</c>. The gateway registers its own, so that the
/// admin page explains a request with the same identity the gateway routes it with.
/// </summary>
public sealed class EntryPointIdentity
{
    /// <summary>An entry point with no labels and no locality: sourceLabels blocks never match, and locality is ignored.</summary>
    public static readonly EntryPointIdentity None = new(null, null);

    /// <summary>Initializes a new instance of the <see cref="EntryPointIdentity"/> class.</summary>
    /// <param name="sourceLabels">The workload's labels; <see langword="null"/> or empty for none.</param>
    /// <param name="locality">The workload's locality, or <see langword="null"/> when unknown.</param>
    public EntryPointIdentity(IEnumerable<KeyValuePair<string, string>>? sourceLabels, Locality? locality)
    {
        var labels = sourceLabels?.ToDictionary(static p => p.Key, static p => p.Value, StringComparer.Ordinal);
        SourceLabels = labels is { Count: > 0 } ? labels : null;
        Locality = locality;
    }

    /// <summary>Gets the workload's labels, or <see langword="null"/> when it has none.</summary>
    public IReadOnlyDictionary<string, string>? SourceLabels { get; }

    /// <summary>Gets the workload's locality, or <see langword="null"/> when unknown.</summary>
    public Locality? Locality { get; }

    /// <summary>The request as this entry point routes it: with its labels and locality.</summary>
    /// <param name="request">The request's facts.</param>
    /// <returns>The facts with the identity.</returns>
    public RouteRequest Apply(in RouteRequest request) => request with { SourceLabels = SourceLabels, SourceLocality = Locality };
}
