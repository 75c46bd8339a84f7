using System.Collections.Immutable;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// One request through the gateway: its routing feature (what later middleware, an access log, read, instead of string
/// keys in <c>HttpContext.Items</c>), its transport (one try through YARP's forwarder) and the transformer of its tries.
/// </summary>
/// <remarks>
/// A try is not an async method of its own: the request is the awaitable of its tries (<see cref="IValueTaskSource{TResult}"/>),
/// completed when YARP's forwarding completes, so the attempt loop awaits the forwarder through no frame between them.
/// Under load async frames cost measurably: three empty ones around the forwarder cost 0.947x throughput under wrk.
/// The request is also its own <see cref="HttpTransformer"/>, so the transforms reach its state without looking up a feature.
/// </remarks>
internal sealed class GatewayRequest(HttpContext context, RouteDecision decision, DynamicSubsetGateway gateway, ImmutableArray<HeaderMapping> strip)
    : HttpTransformer, IDynamicSubsetRoutingFeature, IAttemptTransport, IValueTaskSource<AttemptResult>
{
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>The last config made for each HTTP version: a first try's budget is the per-try timeout, the same every time.</summary>
    private static MadeConfig? s_http11;
    private static MadeConfig? s_http2;

    private Attempt _attempt;
    private ManualResetValueTaskSourceCore<AttemptResult> _try;
    private ConfiguredValueTaskAwaitable<ForwarderError>.ConfiguredValueTaskAwaiter _forwarding;
    private Action? _onForwarded;

    public RouteDecision Decision => decision;

    public Endpoint? Endpoint { get; private set; }

    public int Attempts { get; private set; }

    /// <summary>Gets the routing headers to remove before forwarding (an untrusted caller's); empty to keep them.</summary>
    public ImmutableArray<HeaderMapping> StripHeaders => strip;

    /// <summary>Gets a value indicating whether the transformer held the last response back for a retry.</summary>
    public bool HeldBack { get; private set; }

    /// <summary>Gets or sets the gRPC call's state, or <see langword="null"/> when the request is not a gRPC call.</summary>
    public GrpcCall? Grpc { get; set; }

    /// <summary>
    /// A request is sent again only before the response started, and only when its body can be: it has none, or it is
    /// kept whole (<see cref="ReplayableBody"/>); a body already streamed to one endpoint is gone.
    /// </summary>
    public bool CanResend => !context.Response.HasStarted && (Grpc?.Body?.Replayable ?? DynamicSubsetGateway.CanResend(context));

    /// <summary>Whether to keep a response from the client for a retry.</summary>
    private bool HoldBack(HttpResponseMessage response) =>
        HeldBack = Grpc?.HoldBack(_attempt, response) ?? _attempt.ShouldHoldBack((int)response.StatusCode);

    public ValueTask<AttemptResult> SendAsync(Attempt attempt, CancellationToken cancellationToken)
    {
        (_attempt, Endpoint, HeldBack) = (attempt, attempt.Endpoint, false);
        Attempts++;
        Grpc?.Body?.Rewind();

        // YARP's activity timeout bounds the try between reads, so a long streamed response is not cut off midway.
        var config = Config(decision.Service.Protocol, context.Request.Protocol, attempt.Budget);
        var forwarding = gateway.Forwarder.SendAsync(context, $"http://{attempt.Endpoint.Authority}", gateway.InvokerFor(decision.Service.ConnectionPool), config, this, cancellationToken);
        if (forwarding.IsCompleted)
        {
            return new ValueTask<AttemptResult>(Finish(forwarding.GetAwaiter().GetResult()));
        }

        _try.Reset();
        _forwarding = forwarding.ConfigureAwait(false).GetAwaiter();
        _forwarding.UnsafeOnCompleted(_onForwarded ??= OnForwarded); // the loop's own await flows its context
        return new ValueTask<AttemptResult>(this, _try.Version);
    }

    /// <summary>
    /// Sends the request on as received: its raw target (no re-encoding), its Host, an untrusted caller's routing headers
    /// removed, the route's request actions applied.
    /// </summary>
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);

        // The base copies the request's Host as it came. Setting it again would parse the copy and validate the
        // value, a Uri each (a fifth of the gateway's own allocation per request): only a request without one gets it.
        if (!proxyRequest.Headers.NonValidated.Contains("Host") && httpContext.Request.Host.HasValue)
        {
            proxyRequest.Headers.Host = httpContext.Request.Host.Value;
        }

        // The path as the client wrote it: PathString would decode and re-encode it (..%2f became ..%252f).
        if (httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/' &&
            Uri.TryCreate(destinationPrefix + raw, in Verbatim, out var exact))
        {
            proxyRequest.RequestUri = exact;
        }

        foreach (var mapping in strip)
        {
            proxyRequest.Headers.Remove(mapping.Header);
        }

        if (decision.Route is { HasActions: true })
        {
            RouteActions.ApplyToRequest(httpContext, proxyRequest, decision, destinationPrefix);
        }

        RouteActions.ApplyConnectionSettings(proxyRequest, decision.Service.ConnectionPool);
    }

    /// <summary>
    /// Copies the response to the client, with the route's response actions and a hash cookie; or holds it back, neither
    /// headers nor body, when the route retries it and another try is allowed.
    /// </summary>
    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null && HoldBack(proxyResponse))
        {
            return false; // the pipeline tries another endpoint
        }

        var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (proxyResponse is not null && decision.SetCookie is { } setCookie)
        {
            httpContext.Response.Headers.Append("Set-Cookie", setCookie);
        }

        if (proxyResponse is not null && decision.Route is { HasActions: true })
        {
            RouteActions.ApplyToResponse(httpContext, decision);
        }

        return copy;
    }

    AttemptResult IValueTaskSource<AttemptResult>.GetResult(short token) => _try.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<AttemptResult>.GetStatus(short token) => _try.GetStatus(token);

    void IValueTaskSource<AttemptResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _try.OnCompleted(continuation, state, token, flags);

    private void OnForwarded()
    {
        var forwarding = _forwarding;
        _forwarding = default;
        AttemptResult result;
        try
        {
            result = Finish(forwarding.GetResult());
        }
        catch (Exception e)
        {
            _try.SetException(e);
            return;
        }

        _try.SetResult(result);
    }

    /// <summary>What came of a try: the forwarder's error, classified, or the response's status.</summary>
    private AttemptResult Finish(ForwarderError error)
    {
        if (error != ForwarderError.None)
        {
            return ForwarderErrors.Classify(context, error);
        }

        var status = context.Response.StatusCode;
        return AttemptResult.Response(Grpc?.CountedStatus(status) ?? status, HeldBack);
    }

    public ValueTask CompleteAsync(AttemptOutcome outcome) => DynamicSubsetGateway.AnswerFailure(context, outcome, Grpc);

    public void Discard()
    {
        context.Response.Clear(); // a held-back status, or the 502/504 the forwarder set: nothing was sent yet
        context.Features.Set<IForwarderErrorFeature>(null);
    }

    /// <summary>The HTTP version of a try: HTTP/2 with prior knowledge, HTTP/1.1, or the version the request came in.</summary>
    private static ForwarderRequestConfig Config(UpstreamProtocol protocol, string requestProtocol, TimeSpan budget)
    {
        var http2 = protocol == UpstreamProtocol.Http2 || (protocol == UpstreamProtocol.ClientProtocol && HttpProtocol.IsHttp2(requestProtocol));
        ref var last = ref http2 ? ref s_http2 : ref s_http11;
        if (Volatile.Read(ref last) is { } made && made.Budget == budget)
        {
            return made.Config;
        }

        var config = Make(http2, budget);
        Volatile.Write(ref last, new MadeConfig(budget, config));
        return config;
    }

    private static ForwarderRequestConfig Make(bool http2, TimeSpan budget) => new()
    {
        ActivityTimeout = budget == Timeout.InfiniteTimeSpan ? TimeSpan.FromDays(1) : budget,
        Version = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
        VersionPolicy = http2 ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
    };

    private sealed record MadeConfig(TimeSpan Budget, ForwarderRequestConfig Config);
}
