namespace DynamicSubset.Routing;

/// <summary>What an <see cref="EndpointChange"/> does.</summary>
public enum EndpointChangeKind
{
    /// <summary>Adds the endpoint, or replaces the one with the same address (new labels, health or weight).</summary>
    Upsert = 0,

    /// <summary>Removes the endpoint with the address; nothing happens if there is none.</summary>
    Remove = 1,

    /// <summary>Sets the health of the endpoint with the address; nothing happens if there is none.</summary>
    SetHealth = 2,

    /// <summary>Replaces the labels of the endpoint with the address; nothing happens if there is none.</summary>
    SetLabels = 3,
}
