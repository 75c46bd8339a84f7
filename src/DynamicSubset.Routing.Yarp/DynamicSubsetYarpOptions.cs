namespace DynamicSubset.Routing.Yarp;

/// <summary>Options of the YARP proxy-pipeline step (<c>UseDynamicSubsets()</c>): who the proxy is, for the rules that ask.</summary>
public sealed class DynamicSubsetYarpOptions
{
    /// <summary>
    /// Gets the labels of the proxy's own workload, which VirtualService <c>match[].sourceLabels</c> compare. Empty (the
    /// default): a block with <c>sourceLabels</c> never matches.
    /// </summary>
    public IDictionary<string, string> SourceLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets the proxy's own locality (<c>region</c>, <c>region/zone</c> or <c>region/zone/subzone</c>), for
    /// DestinationRule <c>localityLbSetting</c>. <see langword="null"/> (the default): picks ignore locality.
    /// </summary>
    public string? Locality { get; set; }
}
