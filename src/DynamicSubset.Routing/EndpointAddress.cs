using System.Net;

namespace DynamicSubset.Routing;

/// <summary>An endpoint's identity: its IP address and port. Orders IPv4 before IPv6, then by bytes, then by port.</summary>
public readonly struct EndpointAddress : IEquatable<EndpointAddress>, IComparable<EndpointAddress>
{
    // The address as two 64-bit halves (IPv4 in the low half of _low, with _high = 0 and _family = 0),
    // so equality and ordering never touch the IPAddress object.
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly int _family;
    private readonly IPAddress? _address;

    /// <summary>Initializes a new instance of the <see cref="EndpointAddress"/> struct.</summary>
    /// <param name="address">The IP address.</param>
    /// <param name="port">The port.</param>
    public EndpointAddress(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        if (written == 4)
        {
            _family = 0;
            _high = 0;
            _low = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }
        else
        {
            _family = 1;
            _high = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
            _low = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        }

        Port = port;
        _address = address;
    }

    /// <summary>Gets the IP address.</summary>
    public IPAddress Address => _address ?? IPAddress.Any;

    /// <summary>Gets the port.</summary>
    public int Port { get; }

    /// <inheritdoc />
    public bool Equals(EndpointAddress other) =>
        _low == other._low && _high == other._high && _family == other._family && Port == other.Port;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is EndpointAddress other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_high, _low, Port);

    /// <summary>Returns the address as <c>10.0.0.1:80</c> or <c>[fd00::1]:80</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => _family == 0 ? $"{Address}:{Port}" : $"[{Address}]:{Port}";

    /// <inheritdoc />
    public int CompareTo(EndpointAddress other)
    {
        var c = _family.CompareTo(other._family);
        if (c == 0)
        {
            c = _high.CompareTo(other._high);
        }

        if (c == 0)
        {
            c = _low.CompareTo(other._low);
        }

        return c != 0 ? c : Port.CompareTo(other.Port);
    }

    /// <summary>Compares two addresses for equality.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> if they are equal.</returns>
    public static bool operator ==(EndpointAddress left, EndpointAddress right) => left.Equals(right);

    /// <summary>Compares two addresses for inequality.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> if they differ.</returns>
    public static bool operator !=(EndpointAddress left, EndpointAddress right) => !left.Equals(right);

    /// <summary>Orders two addresses.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> if <paramref name="left"/> sorts first.</returns>
    public static bool operator <(EndpointAddress left, EndpointAddress right) => left.CompareTo(right) < 0;

    /// <summary>Orders two addresses.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> if <paramref name="left"/> sorts last.</returns>
    public static bool operator >(EndpointAddress left, EndpointAddress right) => left.CompareTo(right) > 0;

    /// <summary>Orders two addresses.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> if <paramref name="left"/> does not sort last.</returns>
    public static bool operator <=(EndpointAddress left, EndpointAddress right) => left.CompareTo(right) <= 0;

    /// <summary>Orders two addresses.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> if <paramref name="left"/> does not sort first.</returns>
    public static bool operator >=(EndpointAddress left, EndpointAddress right) => left.CompareTo(right) >= 0;
}
