using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli;

/// <summary>
/// <c>--max-connections</c>, kept by <c>serve</c> instead of Kestrel: at the cap, a new connection first reclaims the
/// oldest idle one (a keep-alive connection with no request in flight, or one that never sent a request), as Envoy's
/// overload manager does, so that a client with a request gets in while idle connections hold the cap. Only when every
/// connection has a request in flight is the new one refused.
/// </summary>
internal sealed partial class ConnectionCap(int most, ILogger logger)
{
    /// <summary>How many connections a new one looks at, oldest first, for an idle one to reclaim.</summary>
    private const int Looks = 64;

    private static readonly object Key = new();

    /// <summary>A request's end: its connection has one request fewer in flight.</summary>
    private static readonly Func<object, Task> Done = static state =>
    {
        Interlocked.Decrement(ref ((Tracked)state).Busy);
        return Task.CompletedTask;
    };

    private readonly ConcurrentQueue<Tracked> _byAge = new();
    private int _open;

    /// <summary>Gets how many connections were reclaimed so far.</summary>
    public long Reclaimed => Interlocked.Read(ref _reclaimed);

    private long _reclaimed;

    /// <summary>The connection middleware: counts, reclaims, refuses.</summary>
    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        var tracked = new Tracked(connection.Features.Get<IConnectionLifetimeNotificationFeature>());
        if (Interlocked.Increment(ref _open) > most && !ReclaimIdle())
        {
            Interlocked.Decrement(ref _open);
            Refused(logger, most);
            connection.Abort();
            return;
        }

        connection.Items[Key] = tracked;
        _byAge.Enqueue(tracked);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref tracked.Closed, true);
            Interlocked.Decrement(ref _open);
        }
    };

    /// <summary>
    /// The request middleware: a connection is busy from the start of a request until its response completed. Not an
    /// async frame around the request: the end is Kestrel's completion callback, whose list the connection reuses.
    /// </summary>
    public static Task TrackRequest(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Key, out var item) == true && item is Tracked tracked)
        {
            Interlocked.Increment(ref tracked.Busy);
            context.Response.OnCompleted(Done, tracked);
        }

        return next(context);
    }

    /// <summary>Asks the oldest idle connection to close; busy ones go back in line, closed ones are forgotten.</summary>
    private bool ReclaimIdle()
    {
        for (var looked = 0; looked < Looks && _byAge.TryDequeue(out var candidate); looked++)
        {
            if (Volatile.Read(ref candidate.Closed))
            {
                continue;
            }

            if (Volatile.Read(ref candidate.Busy) == 0 && candidate.Lifetime is { } lifetime)
            {
                lifetime.RequestClose(); // Kestrel stops waiting for its next request and closes it
                Interlocked.Increment(ref _reclaimed);
                return true;
            }

            _byAge.Enqueue(candidate);
        }

        return false;
    }

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Refused a connection: all {Most} connections have a request in flight (--max-connections).")]
    private static partial void Refused(ILogger logger, int most);

    private sealed class Tracked(IConnectionLifetimeNotificationFeature? lifetime)
    {
        public int Busy;
        public bool Closed;

        public IConnectionLifetimeNotificationFeature? Lifetime { get; } = lifetime;
    }
}
