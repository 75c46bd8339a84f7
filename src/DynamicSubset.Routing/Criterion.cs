namespace DynamicSubset.Routing;

/// <summary>One header mapping's contribution to a request's criteria, for explaining a decision.</summary>
/// <param name="Mapping">The header mapping.</param>
/// <param name="Value">The key's value, or <see langword="null"/> when the key is left out.</param>
/// <param name="Source">Where the value came from.</param>
/// <param name="HeaderTooLong">Whether the header was present but longer than <see cref="HeaderMapping.MaxValueLength"/>.</param>
public readonly record struct Criterion(HeaderMapping Mapping, string? Value, CriterionSource Source, bool HeaderTooLong = false);
