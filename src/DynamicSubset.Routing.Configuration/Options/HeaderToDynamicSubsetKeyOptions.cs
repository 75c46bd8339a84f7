using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>One entry of <c>headerToDynamicSubsetKey</c>.</summary>
public sealed class HeaderToDynamicSubsetKeyOptions
{
    /// <summary>Gets or sets the header name.</summary>
    [Required]
    public string? Header { get; set; }

    /// <summary>Gets or sets the key it sets.</summary>
    [Required]
    public string? Key { get; set; }

    /// <summary>Gets or sets the value used when the header is absent.</summary>
    public string? DefaultValue { get; set; }
}
