namespace DynamicSubset.Routing;

/// <summary>Where the fallback policy that was applied came from.</summary>
public enum FallbackScope
{
    /// <summary>The global <c>fallbackPolicy</c> of <c>dynamicSubset</c>.</summary>
    Global = 0,

    /// <summary>The <c>fallbackPolicy</c> of the selector whose key set equals the criteria's key set.</summary>
    Selector = 1,
}
