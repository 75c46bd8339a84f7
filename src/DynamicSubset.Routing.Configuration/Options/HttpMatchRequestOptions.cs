using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>One block of a route's <c>match</c> list.</summary>
public sealed class HttpMatchRequestOptions
{
    /// <summary>Gets or sets the block's name.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets the condition on the path.</summary>
    public StringMatchOptions? Uri { get; set; }

    /// <summary>Gets or sets the condition on the scheme.</summary>
    public StringMatchOptions? Scheme { get; set; }

    /// <summary>Gets or sets the condition on the method.</summary>
    public StringMatchOptions? Method { get; set; }

    /// <summary>Gets or sets the condition on the authority.</summary>
    public StringMatchOptions? Authority { get; set; }

    /// <summary>Gets the header conditions; an empty match asks for presence.</summary>
    public IDictionary<string, StringMatchOptions> Headers { get; } = new Dictionary<string, StringMatchOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the query parameter conditions (exact or regex).</summary>
    public IDictionary<string, StringMatchOptions> QueryParams { get; } = new Dictionary<string, StringMatchOptions>(StringComparer.Ordinal);

    /// <summary>Gets the <c>withoutHeaders</c> conditions.</summary>
    public IDictionary<string, StringMatchOptions> WithoutHeaders { get; } = new Dictionary<string, StringMatchOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets <c>ignoreUriCase</c>.</summary>
    public bool IgnoreUriCase { get; set; }

    /// <summary>Gets or sets the port the request must be addressed to.</summary>
    [Range(1, 65535)]
    public int? Port { get; set; }
}
