namespace DynamicSubset.Routing.Http;

/// <summary>
/// The retries and timeouts one request gets: its route's <c>retries</c> and <c>timeout</c> where it has them, else the
/// entry point's defaults (connect failures, and timed-out or reset tries of idempotent requests, retried on another
/// endpoint of the resolved set). Every entry point's attempt loop reads them, so all retry alike.
/// </summary>
public readonly struct RetryRules
{
    private readonly RouteRetryPolicy? _policy;

    private RetryRules(RouteRetryPolicy? policy, int attempts, TimeSpan perTryTimeout, TimeSpan timeout)
    {
        _policy = policy;
        Attempts = attempts;
        PerTryTimeout = perTryTimeout;
        Timeout = timeout;
    }

    /// <summary>Gets how many retries the request may have after its first try.</summary>
    public int Attempts { get; }

    /// <summary>Gets the time each try may take.</summary>
    public TimeSpan PerTryTimeout { get; }

    /// <summary>Gets the time all tries together may take.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets a value indicating whether some response statuses are retried (only a route's policy does that).</summary>
    public bool RetriesAnyStatus => _policy is { } p && (p.RetryOn & (RetryOn.ServerError | RetryOn.GatewayError | RetryOn.Retriable4xx | RetryOn.RetriableStatusCodes | RetryOn.AnyGrpcStatus)) != 0;

    /// <summary>The message when a configured timeout fails <see cref="IsTimeout"/>.</summary>
    public const string TimeoutRange = "PerTryTimeout and Timeout must be from 1 ms to 1 day, or Timeout.InfiniteTimeSpan";

    /// <summary>Whether a value can be a per-try or an overall timeout: from 1 ms to 1 day, or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>.</summary>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> if it can.</returns>
    public static bool IsTimeout(TimeSpan value) =>
        value == System.Threading.Timeout.InfiniteTimeSpan || (value >= TimeSpan.FromMilliseconds(1) && value <= TimeSpan.FromDays(1));

    /// <summary>The rules of a request: its route's <c>retries</c> and <c>timeout</c>, else the entry point's defaults.</summary>
    /// <param name="route">The route the request matched, or <see langword="null"/>.</param>
    /// <param name="defaultRetries">The retries of a request whose route says nothing.</param>
    /// <param name="defaultPerTryTimeout">The per-try timeout of a request whose route says nothing.</param>
    /// <param name="defaultTimeout">The overall timeout of a request whose route says nothing.</param>
    /// <returns>The rules.</returns>
    public static RetryRules For(HttpRouteRule? route, int defaultRetries, TimeSpan defaultPerTryTimeout, TimeSpan defaultTimeout)
    {
        var timeout = route?.Timeout ?? defaultTimeout;
        return route?.Retries is { } policy
            ? new RetryRules(policy, policy.Attempts, policy.PerTryTimeout ?? defaultPerTryTimeout, timeout)
            : new RetryRules(null, defaultRetries, defaultPerTryTimeout, timeout);
    }

    /// <summary>Whether a try that got no response may be retried.</summary>
    /// <param name="reason">Why the try failed.</param>
    /// <param name="method">The request's method.</param>
    /// <returns><see langword="true"/> if it may.</returns>
    public bool RetriesFailure(RetryReason reason, string method) => _policy is { } policy
        ? policy.RetriesFailure(reason switch
        {
            RetryReason.ConnectFailure => TryFailure.ConnectFailure,
            RetryReason.Reset => TryFailure.Reset,
            _ => TryFailure.PerTryTimeout,
        })
        : RoutingPipeline.MayRetry(reason, method);

    /// <summary>Whether a try that got a response with <paramref name="statusCode"/> may be retried.</summary>
    /// <param name="statusCode">The response's status.</param>
    /// <returns><see langword="true"/> if it may.</returns>
    public bool RetriesStatus(int statusCode) => _policy?.RetriesStatus(statusCode) ?? false;

    /// <summary>Whether a gRPC response whose headers carry <paramref name="grpcStatus"/> may be retried (the route's gRPC <c>retryOn</c> conditions).</summary>
    /// <param name="grpcStatus">The response's <c>grpc-status</c>.</param>
    /// <returns><see langword="true"/> if it may.</returns>
    public bool RetriesGrpcStatus(int grpcStatus) => _policy?.RetriesGrpcStatus(grpcStatus) ?? false;

    /// <summary>
    /// These rules under a caller's deadline (a gRPC client's <c>grpc-timeout</c>): the overall timeout becomes the
    /// shorter of the two.
    /// </summary>
    /// <param name="deadline">The time the caller allows, from now.</param>
    /// <returns>The rules.</returns>
    public RetryRules Within(TimeSpan deadline) =>
        Timeout != System.Threading.Timeout.InfiniteTimeSpan && Timeout <= deadline ? this : new RetryRules(_policy, Attempts, PerTryTimeout, deadline);

    /// <summary>
    /// The endpoint of the next try: another of the resolved set not yet tried; under a route's policy, when every one
    /// has been tried, the same one again (Envoy retries within the pool, preferring other hosts).
    /// </summary>
    internal bool TryNext(Resolution current, List<EndpointAddress> tried, out Resolution next)
    {
        if (current.TryPickAnother(tried, out next))
        {
            return true;
        }

        next = current;
        return _policy is not null && current.HasEndpoint;
    }
}
