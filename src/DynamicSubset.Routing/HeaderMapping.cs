namespace DynamicSubset.Routing;

/// <summary>
/// One entry of a VirtualService's <c>headerToDynamicSubsetKey</c>: the request header whose value becomes
/// the value of a grouping key.
/// </summary>
public sealed class HeaderMapping
{
    /// <summary>The longest header value that counts, in characters; a longer value counts as absent.</summary>
    public const int MaxValueLength = 8192;

    /// <summary>Initializes a new instance of the <see cref="HeaderMapping"/> class.</summary>
    /// <param name="header">The request header's name, matched case-insensitively.</param>
    /// <param name="key">The grouping key it sets; a label key or a built-in such as <c>%ip%</c>.</param>
    /// <param name="defaultValue">
    /// The value used when the request does not carry the header; <see langword="null"/> to leave the key out.
    /// </param>
    /// <exception cref="RoutingValidationException">The mapping is invalid; the message names the field.</exception>
    public HeaderMapping(string header, string key, string? defaultValue = null)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            throw new RoutingValidationException("header", "header name must not be empty", nameof(header));
        }

        foreach (var c in header)
        {
            // RFC 9110 token characters.
            if (c > 0x7E || c <= 0x20 || "\"(),/:;<=>?@[\\]{}".Contains(c, StringComparison.Ordinal))
            {
                throw new RoutingValidationException("header", $"'{header}' is not a valid header name", nameof(header));
            }
        }

        BuiltInKeys.ValidateKey(key, "key", nameof(key));
        if (defaultValue is { Length: 0 })
        {
            throw new RoutingValidationException(
                "defaultValue", "must not be empty; leave it out to leave the key unset when the header is absent", nameof(defaultValue));
        }

        if (defaultValue is { Length: > MaxValueLength })
        {
            throw new RoutingValidationException("defaultValue", $"is longer than {MaxValueLength} characters", nameof(defaultValue));
        }

        Header = header.ToLowerInvariant();
        Key = key;
        DefaultValue = defaultValue;
    }

    /// <summary>Gets the header name, lower-cased.</summary>
    public string Header { get; }

    /// <summary>Gets the grouping key.</summary>
    public string Key { get; }

    /// <summary>Gets the default value, or <see langword="null"/>.</summary>
    public string? DefaultValue { get; }

    /// <summary>Returns the mapping, for example <c>x-version -&gt; version (default v3)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        DefaultValue is null ? $"{Header} -> {Key}" : $"{Header} -> {Key} (default {DefaultValue})";
}
