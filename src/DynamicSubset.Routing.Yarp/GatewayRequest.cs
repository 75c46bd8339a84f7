using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// One request through the gateway: its routing feature (what the transformer and later middleware read, instead of
/// string keys in <c>HttpContext.Items</c>) and its transport (one try through YARP's forwarder).
/// </summary>
internal sealed class GatewayRequest(HttpContext context, RouteDecision decision, DynamicSubsetGateway gateway, ImmutableArray<HeaderMapping> strip)
    : IDynamicSubsetRoutingFeature, IAttemptTransport
{
    private Attempt _attempt;

    public RouteDecision Decision => decision;

    public Endpoint? Endpoint { get; private set; }

    public int Attempts { get; private set; }

    /// <summary>Gets the routing headers to remove before forwarding (an untrusted caller's); empty to keep them.</summary>
    public ImmutableArray<HeaderMapping> StripHeaders => strip;

    /// <summary>Gets a value indicating whether the transformer held the last response back for a retry.</summary>
    public bool HeldBack { get; private set; }

    /// <summary>Only a request without a body is sent again (a body streamed to one endpoint is gone), and only before the response started.</summary>
    public bool CanResend => !context.Response.HasStarted && DynamicSubsetGateway.CanResend(context);

    /// <summary>Called by the transformer with the response's status: whether to keep it from the client for a retry.</summary>
    public bool HoldBack(int statusCode) => HeldBack = _attempt.ShouldHoldBack(statusCode);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<AttemptResult> SendAsync(Attempt attempt, CancellationToken cancellationToken)
    {
        (_attempt, Endpoint, HeldBack) = (attempt, attempt.Endpoint, false);
        Attempts++;

        // YARP's activity timeout bounds the try between reads, so a long streamed response is not cut off midway.
        var config = new ForwarderRequestConfig { ActivityTimeout = attempt.Budget == Timeout.InfiniteTimeSpan ? TimeSpan.FromDays(1) : attempt.Budget };
        var error = await gateway.Forwarder.SendAsync(context, $"http://{attempt.Endpoint.Authority}", gateway.Invoker, config, gateway.Transformer, cancellationToken).ConfigureAwait(false);
        return error == ForwarderError.None
            ? AttemptResult.Response(context.Response.StatusCode, HeldBack)
            : ForwarderErrors.Classify(context, error);
    }

    public void Discard()
    {
        context.Response.Clear(); // a held-back status, or the 502/504 the forwarder set: nothing was sent yet
        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
