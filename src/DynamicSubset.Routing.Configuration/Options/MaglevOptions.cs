namespace DynamicSubset.Routing.Configuration;

/// <summary><c>consistentHash.maglev</c>.</summary>
public sealed class MaglevOptions
{
    /// <summary>Gets or sets <c>tableSize</c>, a prime.</summary>
    public int? TableSize { get; set; }
}
