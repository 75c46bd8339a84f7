namespace DynamicSubset.Routing;

/// <summary>Where a criterion's value came from.</summary>
public enum CriterionSource
{
    /// <summary>The header was absent and the mapping has no default: the key is left out.</summary>
    Absent = 0,

    /// <summary>The request's header.</summary>
    Header = 1,

    /// <summary>The mapping's <c>defaultValue</c>, because the header was absent (or too long, which counts as absent).</summary>
    Default = 2,

    /// <summary>The header was present but empty: the key is left out and the default does not apply.</summary>
    EmptyHeader = 3,
}
