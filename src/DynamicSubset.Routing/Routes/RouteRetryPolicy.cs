using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>The conditions a route retries on (Istio's <c>retryOn</c>, Envoy's names).</summary>
[Flags]
public enum RetryOn
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary><c>5xx</c>: any 5xx response, and a try that got no response (connect failure, reset, per-try timeout).</summary>
    ServerError = 1,

    /// <summary><c>gateway-error</c>: a 502, 503 or 504 response, and a per-try timeout.</summary>
    GatewayError = 2,

    /// <summary><c>connect-failure</c>: the connection could not be made.</summary>
    ConnectFailure = 4,

    /// <summary><c>reset</c>: the connection failed before the response headers came, or the try timed out.</summary>
    Reset = 8,

    /// <summary><c>retriable-4xx</c>: a 409 response.</summary>
    Retriable4xx = 16,

    /// <summary><c>retriable-status-codes</c>: a response whose status is in <see cref="RouteRetryPolicy.RetriableStatusCodes"/>.</summary>
    RetriableStatusCodes = 32,
}

/// <summary>How a request that failed a try was not answered.</summary>
public enum TryFailure
{
    /// <summary>The connection could not be made: nothing reached the endpoint.</summary>
    ConnectFailure = 0,

    /// <summary>The connection failed after the request was sent, before the response headers.</summary>
    Reset = 1,

    /// <summary>The try took longer than its per-try timeout.</summary>
    PerTryTimeout = 2,
}

/// <summary>A route's <c>retries</c>: how many more tries a request gets, on what, and how long each may take.</summary>
public sealed class RouteRetryPolicy
{
    /// <summary>The most attempts a policy may ask for.</summary>
    public const int MaxAttempts = 100;

    /// <summary>Initializes a new instance of the <see cref="RouteRetryPolicy"/> class.</summary>
    /// <param name="attempts">How many retries after the first try (Istio's <c>attempts</c>); 0 turns retries off.</param>
    /// <param name="retryOn">The conditions.</param>
    /// <param name="perTryTimeout">The time each try may take, or <see langword="null"/> for the route's or the client's.</param>
    /// <param name="retriableStatusCodes">The statuses for <see cref="RetryOn.RetriableStatusCodes"/>.</param>
    public RouteRetryPolicy(int attempts, RetryOn retryOn, TimeSpan? perTryTimeout = null, IEnumerable<int>? retriableStatusCodes = null)
    {
        if (attempts is < 0 or > MaxAttempts)
        {
            throw new RoutingValidationException("attempts", $"{attempts} is not between 0 and {MaxAttempts}", nameof(attempts));
        }

        if (perTryTimeout is { } t && t <= TimeSpan.Zero)
        {
            throw new RoutingValidationException("perTryTimeout", "must be positive", nameof(perTryTimeout));
        }

        var codes = (retriableStatusCodes ?? []).ToImmutableArray();
        foreach (var code in codes)
        {
            if (code is < 100 or > 599)
            {
                throw new RoutingValidationException("retryOn", $"{code} is not an HTTP status code", nameof(retriableStatusCodes));
            }
        }

        Attempts = attempts;
        RetryOn = retryOn;
        PerTryTimeout = perTryTimeout;
        RetriableStatusCodes = codes;
    }

    /// <summary>Gets how many retries a request gets after its first try.</summary>
    public int Attempts { get; }

    /// <summary>Gets the conditions.</summary>
    public RetryOn RetryOn { get; }

    /// <summary>Gets the time each try may take, or <see langword="null"/>.</summary>
    public TimeSpan? PerTryTimeout { get; }

    /// <summary>Gets the statuses retried under <see cref="RetryOn.RetriableStatusCodes"/>.</summary>
    public ImmutableArray<int> RetriableStatusCodes { get; }

    /// <summary>Whether a response with <paramref name="statusCode"/> is retried.</summary>
    /// <param name="statusCode">The status.</param>
    /// <returns><see langword="true"/> if a try that got it may be retried.</returns>
    public bool RetriesStatus(int statusCode) =>
        (RetryOn.HasFlag(RetryOn.ServerError) && statusCode is >= 500 and <= 599) ||
        (RetryOn.HasFlag(RetryOn.GatewayError) && statusCode is 502 or 503 or 504) ||
        (RetryOn.HasFlag(RetryOn.Retriable4xx) && statusCode == 409) ||
        (RetryOn.HasFlag(RetryOn.RetriableStatusCodes) && RetriableStatusCodes.Contains(statusCode));

    /// <summary>Whether a try that got no response is retried.</summary>
    /// <param name="failure">How it failed.</param>
    /// <returns><see langword="true"/> if it may be retried.</returns>
    public bool RetriesFailure(TryFailure failure) => failure switch
    {
        TryFailure.ConnectFailure => (RetryOn & (RetryOn.ServerError | RetryOn.ConnectFailure | RetryOn.Reset)) != 0,
        TryFailure.Reset => (RetryOn & (RetryOn.ServerError | RetryOn.Reset)) != 0,
        _ => (RetryOn & (RetryOn.ServerError | RetryOn.GatewayError | RetryOn.Reset)) != 0,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Attempts} attempts on {RetryOn}" + (PerTryTimeout is { } t ? $", {t.TotalSeconds:0.###} s per try" : "");
}
