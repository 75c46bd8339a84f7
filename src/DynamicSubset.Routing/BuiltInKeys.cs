namespace DynamicSubset.Routing;

/// <summary>The built-in endpoint attributes that a key may name as <c>%name%</c>.</summary>
public static class BuiltInKeys
{
    /// <summary>The endpoint's IP address, without the port, in canonical text form.</summary>
    public const string IP = "%ip%";

    /// <summary>Returns whether <paramref name="key"/> is written as a built-in (<c>%name%</c>).</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> if the key starts and ends with <c>%</c>.</returns>
    public static bool IsBuiltInSyntax(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length >= 2 && key[0] == '%' && key[^1] == '%';
    }

    /// <summary>Checks one key of a selector, a mapping or the default subset.</summary>
    internal static void ValidateKey(string? key, string fieldPath, string paramName)
    {
        if (key is null)
        {
            throw new RoutingValidationException(fieldPath, "key must not be null", paramName);
        }

        if (string.IsNullOrWhiteSpace(key))
        {
            throw new RoutingValidationException(fieldPath, "key must not be empty", paramName);
        }

        if (IsBuiltInSyntax(key) && !string.Equals(key, IP, StringComparison.Ordinal))
        {
            throw new RoutingValidationException(
                fieldPath, $"unknown built-in attribute '{key}' (the built-ins are: {IP})", paramName);
        }
    }
}
