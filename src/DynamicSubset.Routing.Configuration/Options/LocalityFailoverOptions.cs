namespace DynamicSubset.Routing.Configuration;

/// <summary>One <c>localityLbSetting.failover</c> entry.</summary>
public sealed class LocalityFailoverOptions
{
    /// <summary>Gets or sets <c>from</c>: the callers' region.</summary>
    public string? From { get; set; }

    /// <summary>Gets or sets <c>to</c>: the region they fail over to first.</summary>
    public string? To { get; set; }
}
