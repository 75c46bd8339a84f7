namespace DynamicSubset.Routing;

/// <summary>One change to a service's endpoints, applied with <see cref="SubsetIndex.Apply(IEnumerable{EndpointChange})"/>.</summary>
/// <remarks>
/// Removing, or changing, an endpoint that is not there changes nothing, as in Envoy: watch streams replay
/// events, and a replay must not break a running service.
/// </remarks>
public readonly struct EndpointChange
{
    private EndpointChange(EndpointChangeKind kind, EndpointAddress address, Endpoint? endpoint, bool isHealthy, IReadOnlyDictionary<string, string>? labels)
    {
        Kind = kind;
        Address = address;
        Endpoint = endpoint;
        IsHealthy = isHealthy;
        Labels = labels;
    }

    /// <summary>Gets what the change does.</summary>
    public EndpointChangeKind Kind { get; }

    /// <summary>Gets the address of the endpoint it changes.</summary>
    public EndpointAddress Address { get; }

    /// <summary>Gets the new endpoint, for <see cref="EndpointChangeKind.Upsert"/>.</summary>
    public Endpoint? Endpoint { get; }

    /// <summary>Gets the new health state, for <see cref="EndpointChangeKind.SetHealth"/>.</summary>
    public bool IsHealthy { get; }

    /// <summary>Gets the new labels, for <see cref="EndpointChangeKind.SetLabels"/>.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; }

    /// <summary>Adds an endpoint, or replaces the one with the same address.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns>The change.</returns>
    public static EndpointChange Upsert(Endpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new(EndpointChangeKind.Upsert, endpoint.AddressKey, endpoint, endpoint.IsHealthy, null);
    }

    /// <summary>Removes the endpoint with the address.</summary>
    /// <param name="address">The endpoint's address.</param>
    /// <returns>The change.</returns>
    public static EndpointChange Remove(EndpointAddress address) => new(EndpointChangeKind.Remove, address, null, false, null);

    /// <summary>Sets the health of the endpoint with the address.</summary>
    /// <param name="address">The endpoint's address.</param>
    /// <param name="isHealthy">The new health state.</param>
    /// <returns>The change.</returns>
    public static EndpointChange SetHealth(EndpointAddress address, bool isHealthy) =>
        new(EndpointChangeKind.SetHealth, address, null, isHealthy, null);

    /// <summary>Replaces the labels of the endpoint with the address.</summary>
    /// <param name="address">The endpoint's address.</param>
    /// <param name="labels">The new labels.</param>
    /// <returns>The change.</returns>
    public static EndpointChange SetLabels(EndpointAddress address, IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new(EndpointChangeKind.SetLabels, address, null, false, LabelSet.Create(labels, nameof(labels)));
    }
}
