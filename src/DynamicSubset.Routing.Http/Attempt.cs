namespace DynamicSubset.Routing.Http;

/// <summary>One try of a request, as the attempt loop gives it to a transport: where to send it and how long it may take.</summary>
public readonly struct Attempt
{
    private readonly RetryRules _rules;
    private readonly long _started;
    private readonly TimeProvider? _time;
    private readonly bool _mayHoldBack;

    internal Attempt(Endpoint endpoint, Resolution resolution, int number, TimeSpan budget, bool mayHoldBack, RetryRules rules, long started, TimeProvider time)
    {
        Endpoint = endpoint;
        Resolution = resolution;
        Number = number;
        Budget = budget;
        _mayHoldBack = mayHoldBack;
        _rules = rules;
        _started = started;
        _time = time;
    }

    /// <summary>Gets the endpoint to send to.</summary>
    public Endpoint Endpoint { get; }

    /// <summary>Gets the resolution the endpoint was picked from: its other endpoints are the candidates not yet tried.</summary>
    public Resolution Resolution { get; }

    /// <summary>Gets the try's number: 0 for the first, 1 for the first retry.</summary>
    public int Number { get; }

    /// <summary>Gets how long the try may take: the per-try timeout, or what is left of the overall one if less; <see cref="Timeout.InfiniteTimeSpan"/> for no bound.</summary>
    public TimeSpan Budget { get; }

    /// <summary>
    /// Whether a response with <paramref name="statusCode"/> should be kept from the caller because another endpoint
    /// will be tried: the route retries that status, a retry is left, the request can be sent again, and time is left.
    /// </summary>
    /// <param name="statusCode">The response's status.</param>
    /// <returns><see langword="true"/> to hold the response back.</returns>
    public bool ShouldHoldBack(int statusCode) =>
        _mayHoldBack && _rules.RetriesStatus(statusCode) && TimeLeft;

    /// <summary>
    /// Whether a gRPC response should be kept from the caller because another endpoint will be tried: as
    /// <see cref="ShouldHoldBack(int)"/>, for its HTTP status or for the <c>grpc-status</c> its headers carry.
    /// </summary>
    /// <param name="statusCode">The response's HTTP status.</param>
    /// <param name="grpcStatus">The <c>grpc-status</c> of its headers (a trailers-only response).</param>
    /// <returns><see langword="true"/> to hold the response back.</returns>
    public bool ShouldHoldBack(int statusCode, int grpcStatus) =>
        _mayHoldBack && (_rules.RetriesStatus(statusCode) || _rules.RetriesGrpcStatus(grpcStatus)) && TimeLeft;

    private bool TimeLeft => RoutingPipeline.Remaining(_rules.Timeout, _time!.GetElapsedTime(_started)) != TimeSpan.Zero;
}
