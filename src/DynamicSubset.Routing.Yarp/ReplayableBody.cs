using System.Buffers;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// A request body that can be sent again, as Envoy buffers one for retries: what the first try reads is kept (up to a
/// bound), and a later try reads it again. A body larger than the bound, or one still arriving when a retry is wanted,
/// is not sent again: the try's answer stands.
/// </summary>
internal sealed class ReplayableBody(Stream inner, int limit) : Stream
{
    private byte[] _buffer = [];
    private int _length;
    private int _replayed = -1; // -1: not replaying
    private bool _overflowed;
    private bool _ended;

    /// <summary>Gets a value indicating whether the whole body is kept, so another try can be sent it: nothing was read, or all of it within the bound.</summary>
    public bool Replayable => !_overflowed && (_ended || _length == 0);

    /// <summary>Starts the body again from its first byte, for the next try.</summary>
    public void Rewind() => _replayed = 0;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (TryReplay(buffer, out var copied))
        {
            return copied;
        }

        var read = inner.Read(buffer);
        Keep(buffer[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TryReplay(buffer.Span, out var copied))
        {
            return copied;
        }

        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Keep(buffer.Span[..read]);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        base.Dispose(disposing);
    }

    private bool TryReplay(Span<byte> destination, out int copied)
    {
        copied = 0;
        if (_replayed < 0 || (_replayed >= _length && !_ended))
        {
            _replayed = -1; // all of what was kept is replayed: read on from the client
            return false;
        }

        copied = Math.Min(destination.Length, _length - _replayed);
        _buffer.AsSpan(_replayed, copied).CopyTo(destination);
        _replayed += copied;
        return true;
    }

    private void Keep(ReadOnlySpan<byte> read)
    {
        if (read.IsEmpty)
        {
            _ended = true;
            return;
        }

        if (_overflowed)
        {
            return;
        }

        if (_length + read.Length > limit)
        {
            _overflowed = true;
            return;
        }

        if (_length + read.Length > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, Math.Max(_length + read.Length, _buffer.Length * 2)));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        read.CopyTo(_buffer.AsSpan(_length));
        _length += read.Length;
    }
}
