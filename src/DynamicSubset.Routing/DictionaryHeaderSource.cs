namespace DynamicSubset.Routing;

/// <summary>Reads headers from a dictionary of single values, such as <c>Dictionary&lt;string, string&gt;</c>.</summary>
/// <param name="headers">The headers.</param>
/// <remarks>
/// Names match case-insensitively. With a dictionary built on <see cref="StringComparer.OrdinalIgnoreCase"/>,
/// a lookup is one probe; otherwise a miss also scans the entries, and with a dictionary type other than
/// <see cref="Dictionary{TKey, TValue}"/> that scan may allocate an enumerator.
/// </remarks>
public readonly struct DictionaryHeaderSource(IReadOnlyDictionary<string, string> headers) : IHeaderSource
{
    private readonly IReadOnlyDictionary<string, string> _headers = headers ?? throw new ArgumentNullException(nameof(headers));

    /// <inheritdoc />
    public bool TryGetValues(string name, ref HeaderValues values)
    {
        // The common case first, called directly rather than through the interface.
        if (_headers is Dictionary<string, string> dictionary)
        {
            if (dictionary.TryGetValue(name, out var found))
            {
                values.Add(found);
                return true;
            }

            return !IsIgnoreCase(dictionary.Comparer) && TryScan(dictionary.GetEnumerator(), name, ref values);
        }

        if (_headers.TryGetValue(name, out var value))
        {
            values.Add(value);
            return true;
        }

        return _headers switch
        {
            System.Collections.Frozen.FrozenDictionary<string, string> frozen when IsIgnoreCase(frozen.Comparer) => false,
            _ => TryScan(_headers.GetEnumerator(), name, ref values),
        };
    }

    /// <summary>
    /// A miss in a case-sensitive dictionary: look for the name in another case. Generic over the enumerator, so
    /// that a <see cref="Dictionary{TKey, TValue}"/> is scanned with its struct enumerator, without allocating.
    /// </summary>
    private static bool TryScan<TEnumerator>(TEnumerator entries, string name, ref HeaderValues values)
        where TEnumerator : IEnumerator<KeyValuePair<string, string>>
    {
        using (entries)
        {
            while (entries.MoveNext())
            {
                var (key, value) = entries.Current;
                if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                {
                    values.Add(value);
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsIgnoreCase(IEqualityComparer<string> comparer) =>
        ReferenceEquals(comparer, StringComparer.OrdinalIgnoreCase) ||
        ReferenceEquals(comparer, StringComparer.InvariantCultureIgnoreCase);
}
