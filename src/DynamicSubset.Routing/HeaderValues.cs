namespace DynamicSubset.Routing;

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
