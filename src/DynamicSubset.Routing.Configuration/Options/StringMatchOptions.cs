namespace DynamicSubset.Routing.Configuration;

/// <summary>An Istio <c>StringMatch</c>: one of <c>exact</c>, <c>prefix</c>, <c>regex</c>; none set asks for presence.</summary>
public sealed class StringMatchOptions
{
    /// <summary>Gets or sets the exact value.</summary>
    public string? Exact { get; set; }

    /// <summary>Gets or sets the prefix.</summary>
    public string? Prefix { get; set; }

    /// <summary>Gets or sets the RE2-style pattern, matched against the whole value.</summary>
    public string? Regex { get; set; }
}
