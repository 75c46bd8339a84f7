namespace DynamicSubset.Routing;

/// <summary>The table that maps a hash onto an endpoint.</summary>
public enum ConsistentHashAlgorithm
{
    /// <summary>Ketama-style ring (<c>ringHash</c>); Istio's default.</summary>
    RingHash = 0,

    /// <summary>Maglev lookup table (<c>maglev</c>): even spread, larger table.</summary>
    Maglev = 1,
}
