namespace DynamicSubset.Routing.Configuration;

/// <summary>One <c>localityLbSetting.distribute</c> entry.</summary>
public sealed class LocalityDistributeOptions
{
    /// <summary>Gets or sets <c>from</c>: the callers' locality pattern, for example <c>us-west/zone1/*</c>.</summary>
    public string? From { get; set; }

    /// <summary>Gets <c>to</c>: endpoint locality patterns and their weights, which add up to 100.</summary>
    public IDictionary<string, int> To { get; } = new Dictionary<string, int>(StringComparer.Ordinal);
}
