using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// Bounds on what the mesh configuration reader accepts. Input past a bound is an error diagnostic
/// (<c>DSR1009</c>) with its file and position, never a crash, a hang or an unbounded allocation; a watcher keeps
/// its last good configuration.
/// </summary>
/// <remarks>
/// The defaults are far above what a real mesh writes (a Pod is nested about 10 levels deep and uses no aliases),
/// and low enough that a hostile or broken file costs a bounded amount of memory and time.
/// </remarks>
public sealed class MeshConfigurationLimits
{
    /// <summary>Gets the default limits.</summary>
    public static MeshConfigurationLimits Default { get; } = new();

    /// <summary>Gets or sets the largest file, in bytes (a text given directly is measured in UTF-16 characters).</summary>
    /// <value>Defaults to 64 MiB.</value>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Gets or sets the most YAML documents (<c>---</c>-separated) in one file.</summary>
    /// <value>Defaults to 100,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxDocuments { get; init; } = 100_000;

    /// <summary>Gets or sets how deep maps and lists may nest.</summary>
    /// <value>Defaults to 100.</value>
    [Range(1, 10_000)]
    public int MaxDepth { get; init; } = 100;

    /// <summary>
    /// Gets or sets how many nodes the aliases (<c>*name</c>) of one file may stand for in all, counting each
    /// alias as the whole tree it repeats. Bounds "billion laughs" files that a few KB expand to millions of objects.
    /// </summary>
    /// <value>Defaults to 100,000.</value>
    [Range(0, long.MaxValue)]
    public long MaxAliasExpansion { get; init; } = 100_000;

    /// <summary>Gets or sets the most <c>subsetSelectors</c> in one DestinationRule.</summary>
    /// <value>Defaults to 4,096.</value>
    [Range(1, int.MaxValue)]
    public int MaxSelectorsPerRule { get; init; } = 4_096;

    /// <summary>Gets or sets the most <c>keys</c> in one subset selector.</summary>
    /// <value>Defaults to 64, the most header mappings a policy can have.</value>
    [Range(1, int.MaxValue)]
    public int MaxKeysPerSelector { get; init; } = 64;

    /// <summary>Gets or sets the most endpoints one service may have.</summary>
    /// <value>Defaults to 500,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxEndpointsPerService { get; init; } = 500_000;

    /// <summary>Gets or sets the most <c>http</c> routes in one VirtualService: each request may try every one of them.</summary>
    /// <value>Defaults to 1,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxRoutesPerVirtualService { get; init; } = 1_000;

    /// <summary>
    /// Gets or sets the most <c>regex</c> matches in one file. A regex costs about half a millisecond to compile (once per
    /// pattern in a process) and tens of nanoseconds per request it is tried on.
    /// </summary>
    /// <value>Defaults to 1,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxRegexesPerFile { get; init; } = 1_000;

    /// <summary>Gets or sets the longest label key or value, in characters (Kubernetes allows 317 and 63).</summary>
    /// <value>Defaults to 1,024.</value>
    [Range(1, int.MaxValue)]
    public int MaxLabelLength { get; init; } = 1_024;
}
