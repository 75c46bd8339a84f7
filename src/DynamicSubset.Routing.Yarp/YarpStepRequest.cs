using System.Runtime.CompilerServices;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// One request through the YARP step: its routing feature, and its transport. A try hands YARP the resolved set's
/// destinations not yet tried, so YARP's own load balancing picks among them, and runs the rest of YARP's pipeline.
/// </summary>
internal sealed class YarpStepRequest(HttpContext context, IReverseProxyFeature proxy, YarpClusterCatalog.ClusterPool pool, Func<Task> next, RouteDecision decision)
    : IDynamicSubsetRoutingFeature, IAttemptTransport
{
    private readonly HashSet<DestinationState> _tried = [];
    private Attempt _attempt;
    private CancellationTokenSource? _perTry;

    public RouteDecision Decision => decision;

    /// <summary>Gets the VirtualService's decision (route, destination, matched block) whose actions the transforms carry out.</summary>
    public RouteDecision? Routed { get; init; }

    public Endpoint? Endpoint { get; private set; }

    public int Attempts { get; private set; }

    public bool HeldBack { get; private set; }

    /// <summary>Gets or sets the gRPC call's state, or <see langword="null"/> when the request is not a gRPC call.</summary>
    public GrpcCall? Grpc { get; set; }

    public bool CanResend => !context.Response.HasStarted && (Grpc?.Body?.Replayable ?? DynamicSubsetGateway.CanResend(context));

    /// <summary>Called by the response transform with the response: whether to keep it from the client for a retry.</summary>
    public bool HoldBack(HttpResponseMessage response) =>
        HeldBack = Grpc?.HoldBack(_attempt, response) ?? _attempt.ShouldHoldBack((int)response.StatusCode);

    /// <summary>Called as the response's headers arrive: the per-try timeout stops there, so a long body is not cut off.</summary>
    public void ResponseArrived() => _perTry?.CancelAfter(Timeout.Infinite);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<AttemptResult> SendAsync(Attempt attempt, CancellationToken cancellationToken)
    {
        (_attempt, HeldBack) = (attempt, false);
        Attempts++;
        Grpc?.Body?.Rewind();
        List<DestinationState> candidates = [];
        foreach (var endpoint in attempt.Resolution.CandidateEndpoints)
        {
            if (pool.DestinationOf(endpoint) is { } destination && !_tried.Contains(destination))
            {
                candidates.Add(destination);
            }
        }

        if (candidates.Count == 0 && pool.DestinationOf(attempt.Endpoint) is { } only)
        {
            candidates.Add(only); // every one was tried: the loop retries the one it picked
        }

        proxy.AvailableDestinations = candidates;

        // YARP's forwarder cancels its try with the request's token: the try's own token stands in for it meanwhile.
        var aborted = context.RequestAborted;
        using var perTry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (attempt.Budget != Timeout.InfiniteTimeSpan)
        {
            perTry.CancelAfter(attempt.Budget);
        }

        _perTry = perTry;
        context.RequestAborted = perTry.Token;
        try
        {
            await next().ConfigureAwait(false);
        }
        finally
        {
            context.RequestAborted = aborted;
            _perTry = null;
        }

        var used = proxy.ProxiedDestination is { } proxied ? pool.EndpointOf(proxied) : null;
        if (used is null)
        {
            return AttemptResult.Abandoned(upstreamFault: false, "YARP forwarded to no destination of the resolved set");
        }

        _tried.Add(proxy.ProxiedDestination!);
        Endpoint = used;
        var error = context.GetForwarderErrorFeature()?.Error ?? ForwarderError.None;
        if (error == ForwarderError.None)
        {
            var status = context.Response.StatusCode;
            return AttemptResult.Response(Grpc?.CountedStatus(status) ?? status, HeldBack, used);
        }

        return perTry.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !context.Response.HasStarted
            ? AttemptResult.Failed(RetryReason.PerTryTimeout, null, $"no answer within {attempt.Budget.TotalSeconds:0.###} s", used)
            : ForwarderErrors.Classify(context, error, used);
    }

    public ValueTask CompleteAsync(AttemptOutcome outcome) => DynamicSubsetGateway.AnswerFailure(context, outcome, Grpc);

    public void Discard()
    {
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
