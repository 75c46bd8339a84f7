using System.Buffers;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>Blocks of bytes read one after another, as one <see cref="ReadOnlySequence{T}"/> a reader can walk without copying them together.</summary>
internal static class BlockSequence
{
    public static ReadOnlySequence<byte> Of(IEnumerable<ReadOnlyMemory<byte>> blocks)
    {
        Segment? first = null, last = null;
        foreach (var block in blocks)
        {
            var segment = new Segment(block, last);
            first ??= segment;
            last = segment;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
