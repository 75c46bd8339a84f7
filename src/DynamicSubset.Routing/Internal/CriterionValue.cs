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
/// <remarks>
/// Not <see cref="string.GetHashCode()"/>: Marvin resists hash flooding, and costs more on short values. Flooding
/// needs the attacker to fill the table, and only the operator's labels fill it; a request's values only probe it,
/// and a table is at most half full. So a multiply-xorshift over eight bytes at a time, finished with the first
/// half of MurmurHash3's 64-bit finalizer so that the low bits, which pick the slot, depend on every byte.
/// </remarks>
internal static class SubsetHash
{
    public const int Seed = 17;

    public static int Combine(int hash, ReadOnlySpan<char> value) =>
        unchecked((hash * -1521134295) + Of(value));

    /// <summary>The hash of one value; internal for the distribution test.</summary>
    internal static int Of(ReadOnlySpan<char> value)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(value);
        var h = unchecked((ulong)bytes.Length * 0x9E3779B97F4A7C15);
        while (bytes.Length >= sizeof(ulong))
        {
            h = unchecked((h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * 0x9E3779B97F4A7C15);
            h ^= h >> 32;
            bytes = bytes[sizeof(ulong)..];
        }

        if (bytes.Length >= sizeof(uint))
        {
            h = unchecked((h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes)) * 0x9E3779B97F4A7C15);
            bytes = bytes[sizeof(uint)..];
        }

        if (!bytes.IsEmpty)
        {
            h = unchecked((h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes)) * 0x9E3779B97F4A7C15);
        }

        h ^= h >> 33;
        h = unchecked(h * 0xFF51AFD7ED558CCD);
        h ^= h >> 33;
        return unchecked((int)h);
    }

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
