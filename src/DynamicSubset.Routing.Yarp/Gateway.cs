using System.Diagnostics;
using System.Net;
using System.Text;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// Forwards requests to the endpoint that dynamic subset routing chooses, with YARP's <see cref="IHttpForwarder"/>.
/// The service is the one the Host header names (without its port; short names work). The entry point reads the
/// request and writes the answer; deciding, trying, retrying and recording are the pipeline's (<see cref="RoutingPipeline"/>).
/// </summary>
internal sealed class DynamicSubsetGateway : IDisposable
{
    private readonly RoutingCatalog _catalog;
    private readonly RoutingPipeline _pipeline;
    private readonly DynamicSubsetGatewayOptions _options;
    private readonly TrustedRoutingHeaders _trust;
    private readonly EntryPointIdentity _identity;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TimeSpan, HttpMessageInvoker> _invokers = new();

    /// <summary>How long a connection to an endpoint may take to open when its DestinationRule does not say.</summary>
    private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    public DynamicSubsetGateway(
        RoutingCatalog catalog, IHttpForwarder forwarder, RoutingPipeline pipeline, IOptions<DynamicSubsetGatewayOptions> options, TrustedRoutingHeaders trust,
        EntryPointIdentity identity, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null)
    {
        _catalog = catalog;
        Forwarder = forwarder;
        _pipeline = pipeline;
        _options = options.Value;
        _trust = trust;
        Invoker = CreateInvoker(null);
        _identity = identity;
        Mirrors = new Mirroring(Invoker, (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger(typeof(Mirroring).FullName!), _options.MaxRetryBodySize);
    }

    /// <summary>Gets where routes' mirrored copies are sent from.</summary>
    public Mirroring Mirrors { get; }

    public RoutingCatalog Catalog => _catalog;

    public IHttpForwarder Forwarder { get; }

    public HttpMessageInvoker Invoker { get; }

    /// <summary>
    /// The invoker a pool's tries go through: the shared one, or, for a pool whose DestinationRule sets its connections'
    /// idle timeout, one of its own (one per distinct timeout, made once), so its idle connections close on time.
    /// </summary>
    public HttpMessageInvoker InvokerFor(ConnectionPoolPolicy? pool) =>
        pool?.IdleTimeout is { } idle ? _invokers.GetOrAdd(idle, static key => CreateInvoker(key)) : Invoker;

    /// <summary>An invoker for tries and mirrored copies: no proxy, no redirects, no cookies, header values passed through as Kestrel read them.</summary>
    internal static HttpMessageInvoker CreateInvoker(TimeSpan? idleTimeout)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = DefaultConnectTimeout,
            ConnectCallback = PoolConnections.ConnectAsync, // a pool's own tcp.connectTimeout, carried by the request
            // An HTTP/2 endpoint gets more connections once one has as many calls as the endpoint allows, not a queue.
            EnableMultipleHttp2Connections = true,
            // Kestrel reads header values as UTF-8; send them on the same way, so any value it accepted goes through.
            RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8,
            ResponseHeaderEncodingSelector = static (_, _) => Encoding.Latin1,
        };
        if (idleTimeout is { } idle)
        {
            handler.PooledConnectionIdleTimeout = idle;
        }

        return new HttpMessageInvoker(handler);
    }

    /// <summary>
    /// Routes and forwards one request. Not itself async: the decision is made on the caller's stack, and only the
    /// awaits that follow (a route's actions, the attempt loop) add a frame of their own.
    /// </summary>
    public Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;

        if (context.Features.Get<IHttpRequestFeature>()?.RawTarget == "*")
        {
            // "OPTIONS *" asks about the server itself; HttpClient cannot send the asterisk form, so the gateway answers.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.Allow = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";
            return Task.CompletedTask;
        }

        if (!FindService(request.Host.Host, out var service))
        {
            return WriteAsync(context, StatusCodes.Status404NotFound, RoutingPipeline.NoRouteBody);
        }

        // Route matches and hash keys read the headers as sent, as the mesh's gateway does; dynamic subset keys only
        // from a trusted caller, and only allowed values.
        var criteria = _trust.For(request.Headers, context.Connection.RemoteIpAddress);
        var decision = _pipeline.Decide(service, _identity.Apply(Facts(context)), new HeaderDictionarySource(request.Headers), criteria, Activity.Current);

        var state = new GatewayRequest(context, decision, this, criteria.IsTrusted ? [] : decision.Service.Resolver.Current.Policy.HeaderMappings);
        context.Features.Set<IDynamicSubsetRoutingFeature>(state); // also for the answers below: an access log reads the decision
        if (decision.IsNoRoute)
        {
            return WriteAsync(context, StatusCodes.Status404NotFound, RoutingPipeline.NoRouteBody);
        }

        return decision.Route is { } route && (route.AnswersItself || route.HasActions)
            ? ActThenSendAsync(context, route, state)
            : SendDecidedAsync(context, state);
    }

    /// <summary>CORS, fault injection, a redirect or a direct response: answered here, before any endpoint is needed; else mirrored, then sent.</summary>
    private async Task ActThenSendAsync(HttpContext context, HttpRouteRule route, GatewayRequest state)
    {
        if (await RouteActions.TryAnswerAsync(context, route).ConfigureAwait(false))
        {
            return;
        }

        if (!route.Mirrors.IsEmpty)
        {
            await Mirrors.CopyAsync(context, route).ConfigureAwait(false);
        }

        await SendDecidedAsync(context, state).ConfigureAwait(false);
    }

    private Task SendDecidedAsync(HttpContext context, GatewayRequest state)
    {
        var decision = state.Decision;
        if (!decision.Resolution.HasEndpoint)
        {
            return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RoutingPipeline.NoHealthyUpstreamBody);
        }

        var rules = RetryRules.For(decision.Route, _options.ConnectRetries, _options.PerTryTimeout, _options.Timeout);
        state.Grpc = GrpcCall.Start(context, ref rules, _options.MaxRetryBodySize);
        return SendAsync(_pipeline, context, decision, rules, state, state.Grpc);
    }

    /// <summary>
    /// Runs the attempt loop for the gateway and the YARP step alike. The loop itself answers a request its tries left
    /// unanswered (<see cref="AnswerFailure"/>, from <see cref="IAttemptTransport.CompleteAsync"/>), so a request costs no
    /// frame around it; a gRPC call is answered after it, by its own rules (<see cref="GrpcCall.FinishAsync"/>).
    /// </summary>
    internal static Task SendAsync(RoutingPipeline pipeline, HttpContext context, RouteDecision decision, RetryRules rules, IAttemptTransport transport, GrpcCall? grpc) =>
        grpc is null
            ? pipeline.SendAsync(decision, rules, context.Request.Method, transport, context.RequestAborted).AsTask()
            : SendGrpcAsync(pipeline, context, decision, rules, transport, grpc);

    /// <summary>The answer to a request whose every try failed, or that the pool's limits refused, unless a response started or it is a gRPC call.</summary>
    internal static ValueTask AnswerFailure(HttpContext context, AttemptOutcome outcome, GrpcCall? grpc) =>
        grpc is null && outcome.Kind is AttemptOutcomeKind.Failed or AttemptOutcomeKind.Overflow && !context.Response.HasStarted
            ? new ValueTask(WriteFailureAsync(context, outcome))
            : default;

    private static async Task SendGrpcAsync(RoutingPipeline pipeline, HttpContext context, RouteDecision decision, RetryRules rules, IAttemptTransport transport, GrpcCall grpc)
    {
        await using (grpc.ConfigureAwait(false))
        {
            await grpc.FinishAsync(await pipeline.SendAsync(decision, rules, context.Request.Method, transport, grpc.Token).ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        Invoker.Dispose();
        foreach (var invoker in _invokers.Values)
        {
            invoker.Dispose();
        }
    }

    /// <summary>
    /// The gateway's own answer. A gRPC call gets it as the mesh maps it: a trailers-only response whose
    /// <c>grpc-status</c> is Envoy's for the HTTP status (no route UNIMPLEMENTED, no healthy upstream UNAVAILABLE).
    /// </summary>
    internal static Task WriteAsync(HttpContext context, int status, string body, int? grpcStatus = null)
    {
        if (GrpcProtocol.IsGrpc(context.Request.ContentType))
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers[GrpcProtocol.StatusHeader] = (grpcStatus ?? GrpcProtocol.FromHttpStatus(status)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage(body);
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>
    /// The answer to a request whose every try failed: 504 <c>upstream request timeout</c>, else 503 <c>upstream connect
    /// error</c>; or that the pool's limits refused: 503 <c>overflow</c>, marked <c>x-envoy-overloaded</c> as Envoy marks it.
    /// </summary>
    internal static Task WriteFailureAsync(HttpContext context, AttemptOutcome outcome)
    {
        context.Response.Clear();
        if (outcome.Kind == AttemptOutcomeKind.Overflow)
        {
            context.Response.Headers["x-envoy-overloaded"] = "true";
            return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RoutingPipeline.OverflowBody);
        }

        return outcome.TimedOut
            ? WriteAsync(context, StatusCodes.Status504GatewayTimeout, RoutingPipeline.UpstreamTimeoutBody)
            : WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RoutingPipeline.UpstreamConnectErrorBody);
    }

    /// <summary>What VirtualService matches look at: method, the raw target (path and query as sent), Host, scheme, local port, caller.</summary>
    internal static RouteRequest Facts(HttpContext context)
    {
        var request = context.Request;
        return new RouteRequest(
            request.Method,
            context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/'
                ? raw
                : string.Concat(request.Path.Value is { Length: > 0 } p ? p : "/", request.QueryString.Value), // absolute-form targets: rare, and they pay for the copy
            request.Host.HasValue ? request.Host.Value : null,
            request.Scheme,
            context.Connection.LocalPort,
            context.Connection.RemoteIpAddress);
    }

    /// <summary>Only a request without a body is sent again: a body already streamed to one endpoint is gone.</summary>
    internal static bool CanResend(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false } ||
        (context.Request.ContentLength is 0 or null && !context.Request.Headers.ContainsKey("Transfer-Encoding") && !HttpMethods.IsPost(context.Request.Method));

    private bool FindService(string host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoutedService? service)
    {
        var current = _catalog.Current;
        if (_options.RouteUnknownHostsToOnlyService && current.Services is [var only] && !current.TryFindByName(host, out _))
        {
            service = only;
            return true;
        }

        return _pipeline.TryFindService(_catalog, host, out service);
    }
}
