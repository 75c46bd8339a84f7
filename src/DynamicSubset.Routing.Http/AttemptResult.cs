namespace DynamicSubset.Routing.Http;

/// <summary>What one try came to, as its transport saw it: a response, a failure worth another endpoint, or an end.</summary>
/// <remarks>
/// A transport only classifies what happened on its wire; what follows (report to outlier detection, retry on another
/// endpoint, give up) is decided once, in <see cref="RoutingPipeline.SendAsync"/>.
/// </remarks>
public readonly struct AttemptResult
{
    private AttemptResult(AttemptResultKind kind, int statusCode, bool heldBack, RetryReason reason, Exception? error, string? detail, bool upstreamFault, Endpoint? endpoint)
    {
        Kind = kind;
        StatusCode = statusCode;
        HeldBack = heldBack;
        Reason = reason;
        Error = error;
        Detail = detail;
        UpstreamFault = upstreamFault;
        Endpoint = endpoint;
    }

    /// <summary>Gets what the try came to.</summary>
    public AttemptResultKind Kind { get; }

    /// <summary>Gets the response's status, for <see cref="AttemptResultKind.Response"/>.</summary>
    public int StatusCode { get; }

    /// <summary>Gets a value indicating whether the transport kept the response from the caller, so that another endpoint may be tried.</summary>
    public bool HeldBack { get; }

    /// <summary>Gets why the try failed, for <see cref="AttemptResultKind.Failed"/>.</summary>
    public RetryReason Reason { get; }

    /// <summary>Gets the failure's exception, when there was one.</summary>
    public Exception? Error { get; }

    /// <summary>Gets the failure in words, for logs.</summary>
    public string? Detail { get; }

    /// <summary>Gets a value indicating whether an <see cref="AttemptResultKind.Abandoned"/> try failed on the endpoint's side (it counts against the endpoint).</summary>
    public bool UpstreamFault { get; }

    /// <summary>Gets the endpoint the transport actually sent to, when its own balancer chose among the candidates; otherwise <see langword="null"/>.</summary>
    public Endpoint? Endpoint { get; }

    /// <summary>A response came; <paramref name="heldBack"/> when the transport kept it from the caller (see <see cref="Attempt.ShouldHoldBack(int)"/>).</summary>
    /// <param name="statusCode">The response's status.</param>
    /// <param name="heldBack">Whether the response was kept from the caller.</param>
    /// <param name="endpoint">The endpoint sent to, when not the one the attempt named.</param>
    /// <returns>The result.</returns>
    public static AttemptResult Response(int statusCode, bool heldBack = false, Endpoint? endpoint = null) =>
        new(AttemptResultKind.Response, statusCode, heldBack, default, null, null, upstreamFault: false, endpoint);

    /// <summary>The try failed before a response, in a way another endpoint may not share.</summary>
    /// <param name="reason">Why.</param>
    /// <param name="error">The exception, if any.</param>
    /// <param name="detail">The failure in words.</param>
    /// <param name="endpoint">The endpoint sent to, when not the one the attempt named.</param>
    /// <returns>The result.</returns>
    public static AttemptResult Failed(RetryReason reason, Exception? error, string detail, Endpoint? endpoint = null) =>
        new(AttemptResultKind.Failed, 0, heldBack: false, reason, error, detail, upstreamFault: true, endpoint);

    /// <summary>The request cannot go on: the caller went away, or the failure came after the response had started.</summary>
    /// <param name="upstreamFault">Whether the endpoint was at fault (it is then reported to outlier detection).</param>
    /// <param name="detail">The failure in words.</param>
    /// <param name="endpoint">The endpoint sent to, when not the one the attempt named.</param>
    /// <returns>The result.</returns>
    public static AttemptResult Abandoned(bool upstreamFault, string? detail = null, Endpoint? endpoint = null) =>
        new(AttemptResultKind.Abandoned, 0, heldBack: false, RetryReason.Reset, null, detail, upstreamFault, endpoint);
}
