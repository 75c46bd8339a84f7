namespace DynamicSubset.Routing.Http;

/// <summary>
/// One pool's circuit breaker (its <see cref="ConnectionPoolPolicy"/>): at most so many requests at its endpoints, at
/// most so many waiting for a place; any other is refused at once. Kept per pool across reloads while its limits stay.
/// </summary>
internal sealed class PoolGate
{
    private readonly SemaphoreSlim? _places;
    private readonly int _maxPending;
    private int _pending;
    private int _retrying;

    public PoolGate(ConnectionPoolPolicy limits, UpstreamProtocol protocol)
    {
        Limits = limits;
        Protocol = protocol;
        _places = limits.MaxActive(protocol) is { } most ? new SemaphoreSlim(most, most) : null;
        _maxPending = limits.MaxPendingRequests ?? ConnectionPoolPolicy.DefaultMaxPendingRequests;
    }

    public ConnectionPoolPolicy Limits { get; }

    public UpstreamProtocol Protocol { get; }

    /// <summary>Takes a place: at once, or after waiting (within <paramref name="wait"/>) when few enough wait already.</summary>
    /// <returns><see langword="true"/> with a place (give it back with <see cref="Exit"/>); <see langword="false"/> when refused, or the wait ran out.</returns>
    public async ValueTask<bool> EnterAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_places is null || _places.Wait(0, CancellationToken.None))
        {
            return true;
        }

        if (Interlocked.Increment(ref _pending) > _maxPending)
        {
            Interlocked.Decrement(ref _pending);
            return false;
        }

        try
        {
            return await _places.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    public void Exit() => _places?.Release();

    /// <summary>Gets a value indicating whether the pool's <c>maxRetries</c> leaves room for another retry now.</summary>
    public bool RetryAvailable => Limits.MaxRetries is not { } most || Volatile.Read(ref _retrying) < most;

    /// <summary>Takes one of the pool's outstanding retries (<c>http.maxRetries</c>); <see langword="false"/> when all are taken.</summary>
    public bool TryStartRetry()
    {
        if (Limits.MaxRetries is not { } most)
        {
            return true;
        }

        if (Interlocked.Increment(ref _retrying) <= most)
        {
            return true;
        }

        Interlocked.Decrement(ref _retrying);
        return false;
    }

    /// <summary>Gives back a retry taken with <see cref="TryStartRetry"/>, once its try has ended.</summary>
    public void EndRetry()
    {
        if (Limits.MaxRetries is not null)
        {
            Interlocked.Decrement(ref _retrying);
        }
    }
}
