namespace DynamicSubset.Routing.Internal;

/// <summary>What a pick knows of the caller: its locality and labels, for <c>localityLbSetting</c>. Default: nothing.</summary>
internal readonly record struct CallerContext(Locality? Locality, IReadOnlyDictionary<string, string>? Labels);
