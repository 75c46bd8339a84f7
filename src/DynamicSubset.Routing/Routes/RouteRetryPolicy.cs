using System.Collections.Immutable;

namespace DynamicSubset.Routing;

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

    /// <summary>
    /// Whether a gRPC response is retried for its <c>grpc-status</c>, read from its headers: Envoy reads it there, so a
    /// call the endpoint refused at once (a trailers-only response) is retried and one that streamed a message is not.
    /// </summary>
    /// <param name="grpcStatus">The response's <c>grpc-status</c>.</param>
    /// <returns><see langword="true"/> if it may be retried.</returns>
    public bool RetriesGrpcStatus(int grpcStatus) => grpcStatus switch
    {
        1 => RetryOn.HasFlag(RetryOn.Cancelled),
        4 => RetryOn.HasFlag(RetryOn.DeadlineExceeded),
        8 => RetryOn.HasFlag(RetryOn.ResourceExhausted),
        13 => RetryOn.HasFlag(RetryOn.Internal),
        14 => RetryOn.HasFlag(RetryOn.Unavailable),
        _ => false,
    };

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
