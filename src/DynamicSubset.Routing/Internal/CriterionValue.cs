using System.Runtime.CompilerServices;

namespace DynamicSubset.Routing.Internal;

/// <summary>
/// One criterion's value without a copy: the header's own string, or a range of the per-thread join buffer
/// when a header came with several values. 16 bytes, so eight of them fit in two cache lines.
/// </summary>
internal readonly struct CriterionValue
{
    private readonly object? _source;
    private readonly int _start;
    private readonly int _length;

    public CriterionValue(string text)
    {
        _source = text;
        _length = text.Length;
    }

    public CriterionValue(char[] buffer, int start, int length)
    {
        _source = buffer;
        _start = start;
        _length = length;
    }

    public ReadOnlySpan<char> Span => _source is string text
        ? text.AsSpan()
        : new ReadOnlySpan<char>(Unsafe.As<char[]>(_source), _start, _length);

    public override string ToString() => new(Span);
}

/// <summary>Room for eight criteria on the stack; more header mappings than that rent an array.</summary>
[InlineArray(Capacity)]
internal struct CriteriaBuffer
{
    public const int Capacity = 8;

    private CriterionValue _element;
}

/// <summary>The one hash function that both the index build and the request path use for a subset's values.</summary>
internal static class SubsetHash
{
    public const int Seed = 17;

    public static int Combine(int hash, ReadOnlySpan<char> value) =>
        unchecked((hash * -1521134295) + string.GetHashCode(value, StringComparison.Ordinal));

    public static int Of(ReadOnlySpan<string> values)
    {
        var hash = Seed;
        foreach (var value in values)
        {
            hash = Combine(hash, value);
        }

        return hash;
    }
}
