namespace DynamicSubset.Routing.Http;

/// <summary>Reads and writes W3C <c>baggage</c> header entries (<c>key=value;props, key2=value2</c>).</summary>
public static class Baggage
{
    /// <summary>Finds an entry's value in a baggage header.</summary>
    /// <param name="header">The header's value.</param>
    /// <param name="key">The entry's key.</param>
    /// <param name="value">The entry's value, unescaped.</param>
    /// <returns><see langword="true"/> if found.</returns>
    public static bool TryGetValue(string? header, string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var member in (header ?? "").Split(','))
        {
            var pair = member.Split(';')[0];
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && string.Equals(Uri.UnescapeDataString(pair[..eq].Trim()), key, StringComparison.OrdinalIgnoreCase))
            {
                value = Uri.UnescapeDataString(pair[(eq + 1)..].Trim());
                return true;
            }
        }

        value = null;
        return false;
    }

    internal static bool Contains(string header, string key) => TryGetValue(header, key, out _);
}
