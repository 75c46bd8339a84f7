using System.Net.Http.Headers;

namespace DynamicSubset.Routing;

/// <summary>
/// A request's headers, as the resolver reads them. Implement it on a <see langword="struct"/> that wraps
/// your header collection, so that resolving neither copies the headers nor allocates.
/// </summary>
/// <remarks>
/// Built-in sources: <see cref="DictionaryHeaderSource"/> and <see cref="HttpRequestHeadersSource"/>.
/// The ASP.NET Core package adds one for <c>IHeaderDictionary</c>.
/// </remarks>
public interface IHeaderSource
{
    /// <summary>
    /// Looks up the header <paramref name="name"/>, ignoring case, and adds each of its values to
    /// <paramref name="values"/> in order.
    /// </summary>
    /// <param name="name">The header name, lower-case.</param>
    /// <param name="values">Receives the header's values; the resolver joins several with <c>,</c>.</param>
    /// <returns><see langword="true"/> if the request carries the header, even with an empty value.</returns>
    bool TryGetValues(string name, ref HeaderValues values);
}

/// <summary>
/// Collects one header's values for the resolver without copying: a single value is kept by reference, and
/// several are joined with <c>,</c> into a buffer that the calling thread reuses.
/// </summary>
public ref struct HeaderValues
{
    [ThreadStatic]
    private static char[]? t_buffer;

    [ThreadStatic]
    private static int t_used;

    private string? _single;
    private char[]? _buffer;
    private int _start;
    private int _length;
    private int _count;
    private bool _tooLong;

    /// <summary>Gets how many values were added.</summary>
    public readonly int Count => _count;

    /// <summary>Gets a value indicating whether the joined value is longer than <see cref="HeaderMapping.MaxValueLength"/>, in which case it counts as absent.</summary>
    public readonly bool IsTooLong => _tooLong;

    /// <summary>Gets the joined value's length.</summary>
    public readonly int Length => _length;

    /// <summary>Adds one value of the header.</summary>
    /// <param name="value">The value; <see langword="null"/> counts as empty.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Add(string? value)
    {
        value ??= string.Empty;
        if (_count == 0 && value.Length <= HeaderMapping.MaxValueLength)
        {
            _single = value;
            _length = value.Length;
            _count = 1;
            return;
        }

        Add(value.AsSpan());
    }

    /// <summary>Adds one value of the header.</summary>
    /// <param name="value">The value.</param>
    public void Add(ReadOnlySpan<char> value)
    {
        _count++;
        if (_tooLong)
        {
            return;
        }

        var needed = (_count > 1 ? 1 : 0) + value.Length;
        if (_length + needed > HeaderMapping.MaxValueLength)
        {
            _tooLong = true;
            return;
        }

        if (_buffer is null)
        {
            // First time this value needs the buffer: move what we hold by reference into it.
            _buffer = Reserve(HeaderMapping.MaxValueLength, out _start);
            _single?.CopyTo(_buffer.AsSpan(_start));
            _single = null;
        }

        var target = _buffer.AsSpan(_start + _length);
        if (_count > 1)
        {
            target[0] = ',';
            target = target[1..];
        }

        value.CopyTo(target);
        _length += needed;
    }

    /// <summary>Gets a value indicating whether the values were joined into the thread's buffer.</summary>
    internal readonly bool UsedBuffer => _buffer is not null;

    /// <summary>Ends a resolution on this thread that joined values; they are no longer needed.</summary>
    internal static void ReleaseThreadBuffer() => t_used = 0;

    internal readonly Internal.CriterionValue ToCriterion() =>
        _single is not null ? new(_single) : new(_buffer ?? [], _start, _length);

    /// <summary>The values joined with commas, valid until this thread's next resolution.</summary>
    internal readonly ReadOnlySpan<char> AsSpan() => _single is not null ? _single.AsSpan() : _buffer.AsSpan(_start, _length);

    internal readonly string ToText() => _single ?? new string(_buffer.AsSpan(_start, _length));

    private static char[] Reserve(int length, out int start)
    {
        var buffer = t_buffer;
        if (buffer is null || buffer.Length - t_used < length)
        {
            // Values already handed out keep the old array alive, so growing never invalidates them.
            buffer = new char[Math.Max(length * 4, (buffer?.Length ?? 0) * 2)];
            t_buffer = buffer;
            t_used = 0;
        }

        start = t_used;
        t_used += length;
        return buffer;
    }
}

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

/// <summary>Reads headers from an outgoing <see cref="HttpRequestHeaders"/>, without validating or parsing them.</summary>
/// <param name="headers">The headers.</param>
public readonly struct HttpRequestHeadersSource(HttpRequestHeaders headers) : IHeaderSource
{
    private readonly HttpRequestHeaders _headers = headers ?? throw new ArgumentNullException(nameof(headers));

    /// <inheritdoc />
    public bool TryGetValues(string name, ref HeaderValues values)
    {
        if (!_headers.NonValidated.TryGetValues(name, out var found))
        {
            return false;
        }

        foreach (var value in found)
        {
            values.Add(value);
        }

        return true;
    }
}
