namespace DynamicSubset.Routing;

/// <summary>An endpoint ejected by outlier detection.</summary>
/// <param name="Address">The endpoint's address.</param>
/// <param name="Until">When it returns (at the first review after this).</param>
/// <param name="Times">How many times it was ejected; the ejection time's multiplier.</param>
public readonly record struct EndpointEjection(EndpointAddress Address, DateTimeOffset Until, int Times);
