using System.Diagnostics.CodeAnalysis;

namespace DynamicSubset.Routing;

/// <summary>
/// Where a workload runs: region, zone and sub-zone, as Istio's locality. An endpoint's comes from its labels
/// (<see cref="RegionLabel"/>, <see cref="ZoneLabel"/>, <see cref="SubzoneLabel"/>); the caller's is configured.
/// </summary>
public sealed record Locality
{
    /// <summary>The label that holds an endpoint's region (Kubernetes' well-known topology label).</summary>
    public const string RegionLabel = "topology.kubernetes.io/region";

    /// <summary>The label that holds an endpoint's zone (Kubernetes' well-known topology label).</summary>
    public const string ZoneLabel = "topology.kubernetes.io/zone";

    /// <summary>The label that holds an endpoint's sub-zone (Istio's; Kubernetes has no sub-zone).</summary>
    public const string SubzoneLabel = "topology.istio.io/subzone";

    /// <summary>The locality of a workload that has none: every part empty.</summary>
    public static readonly Locality Unknown = new("");

    /// <summary>Initializes a new instance of the <see cref="Locality"/> class.</summary>
    /// <param name="region">The region; empty when unknown.</param>
    /// <param name="zone">The zone; empty when unknown.</param>
    /// <param name="subzone">The sub-zone; empty when unknown.</param>
    /// <exception cref="ArgumentException">A part contains '/'.</exception>
    public Locality(string region, string zone = "", string subzone = "")
    {
        Region = Checked(region, nameof(region));
        Zone = Checked(zone, nameof(zone));
        Subzone = Checked(subzone, nameof(subzone));
    }

    /// <summary>Gets the region; empty when unknown.</summary>
    public string Region { get; }

    /// <summary>Gets the zone; empty when unknown.</summary>
    public string Zone { get; }

    /// <summary>Gets the sub-zone; empty when unknown.</summary>
    public string Subzone { get; }

    /// <summary>Parses <c>region</c>, <c>region/zone</c> or <c>region/zone/subzone</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The locality.</returns>
    /// <exception cref="FormatException">The text is empty, has more than three parts, or an empty region.</exception>
    public static Locality Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var locality)
            ? locality
            : throw new FormatException($"'{text}' is not a locality: expected region, region/zone or region/zone/subzone");
    }

    /// <summary>Tries to parse <c>region</c>, <c>region/zone</c> or <c>region/zone/subzone</c>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="locality">The locality.</param>
    /// <returns><see langword="true"/> if the text is a locality.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out Locality? locality)
    {
        locality = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Trim().Split('/');
        if (parts.Length > 3 || parts[0].Length == 0 || parts.Any(static p => p.Length > 0 && p.Trim().Length != p.Length))
        {
            return false;
        }

        locality = new Locality(parts[0], parts.Length > 1 ? parts[1] : "", parts.Length > 2 ? parts[2] : "");
        return true;
    }

    /// <summary>The locality an endpoint's labels give; <see cref="Unknown"/> parts where a label is missing.</summary>
    /// <param name="labels">The endpoint's labels.</param>
    /// <returns>The locality.</returns>
    public static Locality Of(IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var region = labels.GetValueOrDefault(RegionLabel) ?? "";
        var zone = labels.GetValueOrDefault(ZoneLabel) ?? "";
        var subzone = labels.GetValueOrDefault(SubzoneLabel) ?? "";
        return region.Length + zone.Length + subzone.Length == 0 ? Unknown : new Locality(Clean(region), Clean(zone), Clean(subzone));
    }

    /// <summary>
    /// Whether this locality is within <paramref name="pattern"/>, as Istio matches <c>distribute</c>: part by part, where
    /// <c>*</c> matches the rest, and a pattern with fewer parts matches every locality below it (<c>us-west</c> is
    /// every zone of <c>us-west</c>).
    /// </summary>
    /// <param name="pattern">For example <c>us-west/zone1/*</c>.</param>
    /// <returns><see langword="true"/> if it matches.</returns>
    public bool IsWithin(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parts = pattern.Split('/');
        for (var i = 0; i < parts.Length && i < 3; i++)
        {
            if (parts[i] == "*")
            {
                return true;
            }

            var own = i switch { 0 => Region, 1 => Zone, _ => Subzone };
            if (!string.Equals(parts[i], own, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Returns <c>region/zone/subzone</c>, without trailing empty parts.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        Subzone.Length > 0 ? $"{Region}/{Zone}/{Subzone}" : Zone.Length > 0 ? $"{Region}/{Zone}" : Region;

    private static string Checked(string part, string name)
    {
        ArgumentNullException.ThrowIfNull(part, name);
        return part.Contains('/', StringComparison.Ordinal) ? throw new ArgumentException($"a locality part cannot contain '/': '{part}'", name) : part;
    }

    private static string Clean(string part) => part.Replace('/', '_');
}
