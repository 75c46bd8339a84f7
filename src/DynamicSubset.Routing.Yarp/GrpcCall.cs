using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// What makes a gRPC call different on its way through the gateway or the YARP step: the client's <c>grpc-timeout</c>
/// bounds it as a whole (Envoy's default <c>max_grpc_timeout</c>: the header, unlimited); its body is kept for a retry
/// while small and whole; a response's <c>grpc-status</c> decides retries and counts for outlier detection; and the
/// entry point's own failures are answered with gRPC statuses.
/// </summary>
internal sealed class GrpcCall : IAsyncDisposable
{
    private readonly HttpContext _context;
    private readonly Stream _body;
    private readonly CancellationTokenSource? _deadline;
    private readonly bool _deadlineBinds;

    private GrpcCall(HttpContext context, CancellationTokenSource? deadline, bool deadlineBinds, ReplayableBody? body)
    {
        _context = context;
        _body = context.Request.Body;
        _deadline = deadline;
        _deadlineBinds = deadlineBinds;
        Body = body;
        if (body is not null)
        {
            context.Request.Body = body;
        }
    }

    /// <summary>Gets the kept body, or <see langword="null"/> when the call gets no retry.</summary>
    public ReplayableBody? Body { get; }

    /// <summary>Gets what cancels the tries: the client going away, or its deadline passing.</summary>
    public CancellationToken Token => _deadline?.Token ?? _context.RequestAborted;

    /// <summary>Gets the <c>grpc-status</c> of the last response's headers, or -1 when they had none.</summary>
    public int Status { get; private set; } = -1;

    /// <summary>Starts a call's state when the request is a gRPC call; <paramref name="rules"/> then also end at its deadline.</summary>
    public static GrpcCall? Start(HttpContext context, ref RetryRules rules, int maxRetryBody)
    {
        var request = context.Request;
        if (!GrpcProtocol.IsGrpc(request.ContentType))
        {
            return null;
        }

        CancellationTokenSource? deadline = null;
        var binds = false;
        // A deadline past a day (the most a timeout may be here; a timer cannot hold 8 digits of hours) bounds nothing.
        if (request.Headers.TryGetValue(GrpcProtocol.TimeoutHeader, out var header) && GrpcProtocol.TryParseTimeout(header.ToString(), out var timeout) &&
            RetryRules.IsTimeout(timeout))
        {
            rules = rules.Within(timeout);
            binds = rules.Timeout == timeout;
            deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            deadline.CancelAfter(timeout);
        }

        var keep = rules.Attempts > 0 && maxRetryBody > 0 && context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: false };
        return new GrpcCall(context, deadline, binds, keep ? new ReplayableBody(request.Body, maxRetryBody) : null);
    }

    /// <summary>Reads a response's <c>grpc-status</c>; whether to keep the response from the client for a retry.</summary>
    public bool HoldBack(in Attempt attempt, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        Status = response.Headers.TryGetValues(GrpcProtocol.StatusHeader, out var values) && GrpcProtocol.TryParseStatus(values.FirstOrDefault(), out var grpc) ? grpc : -1;
        return (Status >= 0 ? attempt.ShouldHoldBack(status, Status) : attempt.ShouldHoldBack(status)) && (Body?.Replayable ?? true);
    }

    /// <summary>The status a response counts as for outlier detection, as Envoy counts a gRPC one: UNAVAILABLE as 503, and so on.</summary>
    public int CountedStatus(int httpStatus) => Status >= 0 ? GrpcProtocol.ToHttpStatus(Status) : httpStatus;

    /// <summary>
    /// Answers what the tries left unanswered: the client's deadline passing is DEADLINE_EXCEEDED; a failure is the
    /// gateway's usual answer, which <see cref="DynamicSubsetGateway.WriteAsync"/> maps to a gRPC status.
    /// </summary>
    public Task FinishAsync(AttemptOutcome outcome)
    {
        if (_context.Response.HasStarted || _context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        if (_deadline?.IsCancellationRequested == true || (_deadlineBinds && outcome.TimedOut))
        {
            _context.Response.Clear();
            return DynamicSubsetGateway.WriteAsync(_context, StatusCodes.Status504GatewayTimeout, "deadline exceeded", GrpcProtocol.DeadlineExceeded);
        }

        return outcome.Kind is AttemptOutcomeKind.Failed or AttemptOutcomeKind.Overflow ? DynamicSubsetGateway.WriteFailureAsync(_context, outcome) : Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _deadline?.Dispose();
        if (Body is not null)
        {
            _context.Request.Body = _body;
            await Body.DisposeAsync().ConfigureAwait(false);
        }
    }
}
