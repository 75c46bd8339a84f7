using System.Globalization;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// What the entry points need to know of gRPC to route it as the mesh does: which requests are gRPC calls, the
/// client's <c>grpc-timeout</c>, and Envoy's mappings between gRPC statuses and HTTP statuses.
/// </summary>
public static class GrpcProtocol
{
    /// <summary>The gRPC status OK (0).</summary>
    public const int Ok = 0;

    /// <summary>The gRPC status DEADLINE_EXCEEDED (4).</summary>
    public const int DeadlineExceeded = 4;

    /// <summary>The gRPC status UNIMPLEMENTED (12).</summary>
    public const int Unimplemented = 12;

    /// <summary>The gRPC status UNAVAILABLE (14).</summary>
    public const int Unavailable = 14;

    /// <summary>The response header and trailer that carries a call's status.</summary>
    public const string StatusHeader = "grpc-status";

    /// <summary>The response header and trailer that carries a call's status message.</summary>
    public const string MessageHeader = "grpc-message";

    /// <summary>The request header that carries the client's deadline.</summary>
    public const string TimeoutHeader = "grpc-timeout";

    /// <summary>
    /// Whether a request or response is a gRPC call by its content type, as Envoy decides it: <c>application/grpc</c>,
    /// or that followed by <c>+</c> or <c>;</c>. gRPC-Web (<c>application/grpc-web</c>) is not: it is answered as HTTP.
    /// </summary>
    /// <param name="contentType">The <c>content-type</c> header.</param>
    /// <returns><see langword="true"/> for a gRPC call.</returns>
    public static bool IsGrpc(string? contentType) =>
        contentType is { } t && t.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) &&
        (t.Length == 16 || t[16] is '+' or ';');

    /// <summary>
    /// Reads a <c>grpc-timeout</c> value: at most 8 digits and a unit (<c>H</c>, <c>M</c>, <c>S</c>, <c>m</c>, <c>u</c>,
    /// <c>n</c>). A value that is not one is ignored, as Envoy ignores it.
    /// </summary>
    /// <param name="value">The header's value.</param>
    /// <param name="timeout">The deadline, from the time the request came.</param>
    /// <returns><see langword="true"/> if the value was a timeout.</returns>
    public static bool TryParseTimeout(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length is < 2 or > 9 || !long.TryParse(value[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        long? ticks = value[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * TimeSpan.TicksPerMicrosecond,
            'n' => amount / 100,
            _ => null,
        };
        if (ticks is not { } t)
        {
            return false;
        }

        timeout = TimeSpan.FromTicks(Math.Max(t, TimeSpan.TicksPerMillisecond)); // below a millisecond: the shortest timeout there is
        return true;
    }

    /// <summary>
    /// The gRPC status of the gateway's own answer with an HTTP status, as Envoy maps it (<c>httpToGrpcStatus</c>): 400
    /// INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429 and 502 to 504 UNAVAILABLE, else UNKNOWN.
    /// </summary>
    /// <param name="httpStatus">The HTTP status.</param>
    /// <returns>The gRPC status.</returns>
    public static int FromHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => Unimplemented,
        429 or 502 or 503 or 504 => Unavailable,
        _ => 2,
    };

    /// <summary>
    /// The HTTP status a gRPC status counts as for outlier detection, as Envoy maps it (<c>grpcToHttpStatus</c>):
    /// UNAVAILABLE 503, DEADLINE_EXCEEDED 504, INTERNAL, UNKNOWN and DATA_LOSS 500, RESOURCE_EXHAUSTED 429.
    /// </summary>
    /// <param name="grpcStatus">The gRPC status.</param>
    /// <returns>The HTTP status.</returns>
    public static int ToHttpStatus(int grpcStatus) => grpcStatus switch
    {
        Ok => 200,
        1 => 499,
        3 or 9 or 11 => 400,
        DeadlineExceeded => 504,
        5 => 404,
        6 or 10 => 409,
        7 => 403,
        8 => 429,
        Unimplemented => 501,
        Unavailable => 503,
        16 => 401,
        _ => 500,
    };

    /// <summary>Reads a <c>grpc-status</c> value.</summary>
    /// <param name="value">The header's value.</param>
    /// <param name="status">The status.</param>
    /// <returns><see langword="true"/> if the value was a status.</returns>
    public static bool TryParseStatus(ReadOnlySpan<char> value, out int status) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out status);

    /// <summary>Percent-encodes a <c>grpc-message</c> as the gRPC protocol asks (printable ASCII but '%' as is).</summary>
    /// <param name="message">The message.</param>
    /// <returns>The header value.</returns>
    public static string EncodeMessage(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.AsSpan().ContainsAnyExceptInRange(' ', '~') && !message.Contains('%', StringComparison.Ordinal))
        {
            return message;
        }

        var text = new System.Text.StringBuilder(message.Length + 16);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(message))
        {
            _ = b is >= 0x20 and <= 0x7E and not (byte)'%' ? text.Append((char)b) : text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
