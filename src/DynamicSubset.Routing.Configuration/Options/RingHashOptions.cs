namespace DynamicSubset.Routing.Configuration;

/// <summary><c>consistentHash.ringHash</c>.</summary>
public sealed class RingHashOptions
{
    /// <summary>Gets or sets <c>minimumRingSize</c>.</summary>
    public int? MinimumRingSize { get; set; }
}
