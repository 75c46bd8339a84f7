using System.Net.Sockets;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// A DestinationRule's <c>tcp.connectTimeout</c>: a try carries its pool's timeout in the request's options
/// (<see cref="ConnectTimeout"/>), and a <see cref="SocketsHttpHandler.ConnectCallback"/> of <see cref="ConnectAsync"/>
/// bounds the connection it opens by it, and fails it as a connect failure (retried as one). The HttpClient handler sets
/// it on a client's primary handler that has no connect step of its own, and the gateway on its own; a client with its
/// own connect step can call it from there. A connection outlives its first request, as in Envoy: the timeout is the
/// opening's only.
/// </summary>
public static class PoolConnections
{
    /// <summary>The request option that carries the pool's connect timeout.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> ConnectTimeout = new("DynamicSubset.ConnectTimeout");

    /// <summary>Opens a TCP connection to the context's endpoint, within the request's <see cref="ConnectTimeout"/> when it carries one.</summary>
    /// <param name="context">The connection's context.</param>
    /// <param name="cancellationToken">The handler's token (its own <c>ConnectTimeout</c>, the request's cancellation).</param>
    /// <returns>The connection's stream.</returns>
    /// <exception cref="SocketException">The connect failed, or took longer than the pool's timeout (<see cref="SocketError.TimedOut"/>).</exception>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var hasTimeout = context.InitialRequestMessage.Options.TryGetValue(ConnectTimeout, out var timeout);
        if (hasTimeout)
        {
            bounded.CancelAfter(timeout);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, bounded.Token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (hasTimeout && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SocketException((int)SocketError.TimedOut, $"connecting to {context.DnsEndPoint} took longer than the pool's connectTimeout ({timeout.TotalMilliseconds:0} ms)");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
