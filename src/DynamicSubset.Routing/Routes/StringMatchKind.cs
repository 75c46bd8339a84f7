namespace DynamicSubset.Routing;

/// <summary>How a <see cref="StringMatch"/> compares.</summary>
public enum StringMatchKind
{
    /// <summary>The whole value equals the text (<c>exact</c>).</summary>
    Exact = 0,

    /// <summary>The value starts with the text (<c>prefix</c>).</summary>
    Prefix = 1,

    /// <summary>The whole value matches the RE2-style pattern (<c>regex</c>); it is anchored at both ends.</summary>
    Regex = 2,

    /// <summary>The value is present, whatever it is (an empty match, <c>{}</c>).</summary>
    Present = 3,
}
