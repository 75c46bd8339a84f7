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
/// The service is the one the Host header names (without its port; short names work). Connect failures and timed-out
/// tries are retried on another endpoint of the same resolved set; responses and failures feed outlier detection.
/// </summary>
internal sealed class DynamicSubsetGateway : IDisposable
{
    /// <summary>Envoy's body for a request that could not reach any endpoint it tried.</summary>
    public const string UpstreamConnectErrorBody = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

    private readonly RoutingCatalog _catalog;
    private readonly IHttpForwarder _forwarder;
    private readonly RoutingPipeline _pipeline;
    private readonly DynamicSubsetGatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpMessageInvoker _invoker;
    private readonly GatewayTransformer _transformer;

    public DynamicSubsetGateway(RoutingCatalog catalog, IHttpForwarder forwarder, RoutingPipeline pipeline, IOptions<DynamicSubsetGatewayOptions> options, TimeProvider? time = null)
    {
        _catalog = catalog;
        _forwarder = forwarder;
        _pipeline = pipeline;
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        _transformer = new GatewayTransformer();
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // Kestrel reads header values as UTF-8; send them on the same way, so any value it accepted goes through.
            RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8,
            ResponseHeaderEncodingSelector = static (_, _) => Encoding.Latin1,
        });
    }

    public RoutingCatalog Catalog => _catalog;

    public async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpRequestFeature>()?.RawTarget == "*")
        {
            // "OPTIONS *" asks about the server itself; HttpClient cannot send the asterisk form, so the gateway answers.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.Allow = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";
            return;
        }

        if (!FindService(request.Host.Host, out var service))
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, RoutingPipeline.NoRouteBody).ConfigureAwait(false);
            return;
        }

        var trusted = IsTrusted(context);
        var facts = Facts(context);

        // Route matches and hash keys read the headers as sent, as the mesh's gateway does; dynamic subset keys only
        // from a trusted caller, and only allowed values.
        var decision = _pipeline.Decide(service, facts, new HeaderDictionarySource(request.Headers), new GatewayHeaderSource(request.Headers, trusted, _options.TrustedValues), Activity.Current);
        if (decision.IsNoRoute)
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, RoutingPipeline.NoRouteBody).ConfigureAwait(false);
            return;
        }

        var pool = decision.Service;
        var resolution = decision.Resolution;
        if (!resolution.HasEndpoint)
        {
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RoutingPipeline.NoHealthyUpstreamBody).ConfigureAwait(false);
            return;
        }

        if (!trusted)
        {
            context.Items[GatewayTransformer.StripKey] = pool.Resolver.Current.Policy.HeaderMappings;
        }

        if (decision.SetCookie is { } cookie)
        {
            context.Items[GatewayTransformer.CookieKey] = cookie;
        }

        var rules = RetryRules.For(decision.Route, _options.ConnectRetries, _options.PerTryTimeout, _options.Timeout);
        var started = _time.GetTimestamp();
        List<EndpointAddress>? tried = null;
        for (var retries = 0; ; retries++)
        {
            var endpoint = resolution.Endpoint!;
            var perTry = RoutingPipeline.Shorter(rules.PerTryTimeout, Remaining(started, rules)); // the last try gets what is left

            // A status the route retries is held back (not copied to the client) while another try is allowed.
            var mayRetryStatus = rules.RetriesAnyStatus && retries < rules.Attempts && CanResend(context);
            if (mayRetryStatus)
            {
                context.Items[GatewayTransformer.RetryStatusKey] = new StatusRetry(rules, started, _time);
            }

            ForwarderError error;
            using (resolution.TrackRequest())
            {
                var config = new ForwarderRequestConfig { ActivityTimeout = perTry == Timeout.InfiniteTimeSpan ? TimeSpan.FromDays(1) : perTry };
                error = await _forwarder.SendAsync(context, $"http://{endpoint.Authority}", _invoker, config, _transformer).ConfigureAwait(false);
            }

            if (mayRetryStatus)
            {
                context.Items.Remove(GatewayTransformer.RetryStatusKey);
            }

            if (error == ForwarderError.None)
            {
                var status = context.Response.StatusCode;
                _pipeline.ReportResponse(pool, endpoint, status);
                if (!context.Items.Remove(GatewayTransformer.HeldBackKey))
                {
                    return;
                }

                // The transformer held this answer back for a retry.
                (tried ??= []).Add(endpoint.AddressKey);
                if (Remaining(started, rules) != TimeSpan.Zero && rules.TryNext(resolution, tried, out var again))
                {
                    _pipeline.Retrying(pool, endpoint, again.Endpoint!, RetryReason.Status, $"HTTP {status}");
                    context.Response.Clear();
                    resolution = again;
                    continue;
                }

                // The time ran out between the hold-back and here: the status stands, without the endpoint's body.
                return;
            }

            var reason = Classify(context, error);
            if (reason is null)
            {
                // The client went away, or the failure came after the response started: nothing to retry or rewrite.
                if (error is not (ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient))
                {
                    _pipeline.ReportFailure(pool, endpoint, RetryReason.Reset);
                    _pipeline.Failed(pool, endpoint, Describe(context, error));
                }

                return;
            }

            _pipeline.ReportFailure(pool, endpoint, reason.Value);
            (tried ??= []).Add(endpoint.AddressKey);
            if (retries < rules.Attempts && !context.Response.HasStarted && CanResend(context) &&
                rules.RetriesFailure(reason.Value, request.Method) &&
                Remaining(started, rules) != TimeSpan.Zero &&
                rules.TryNext(resolution, tried, out var next))
            {
                _pipeline.Retrying(pool, endpoint, next.Endpoint!, reason.Value, Describe(context, error));
                context.Response.Clear(); // the forwarder set a 502 or 504; nothing was sent yet
                context.Features.Set<IForwarderErrorFeature>(null);
                resolution = next;
                continue;
            }

            _pipeline.Failed(pool, endpoint, Describe(context, error));
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await (reason == RetryReason.PerTryTimeout
                    ? WriteAsync(context, StatusCodes.Status504GatewayTimeout, RoutingPipeline.UpstreamTimeoutBody)
                    : WriteAsync(context, StatusCodes.Status503ServiceUnavailable, UpstreamConnectErrorBody)).ConfigureAwait(false);
            }

            return;
        }
    }

    public void Dispose() => _invoker.Dispose();

    internal static Task WriteAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>A failure worth another endpoint: it happened before the response, on the backend's side.</summary>
    internal static RetryReason? Classify(HttpContext context, ForwarderError error) => error switch
    {
        ForwarderError.RequestTimedOut => RetryReason.PerTryTimeout,
        ForwarderError.Request when context.GetForwarderErrorFeature()?.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
            => RetryReason.ConnectFailure,
        ForwarderError.Request => RetryReason.Reset,
        _ => null,
    };

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

    internal static string Describe(HttpContext context, ForwarderError error) =>
        context.GetForwarderErrorFeature()?.Exception is { } e ? $"{error}: {e.GetBaseException().Message}" : error.ToString();

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

    private bool IsTrusted(HttpContext context)
    {
        if (_options.TrustedNetworks.Count == 0)
        {
            return true;
        }

        var remote = context.Connection.RemoteIpAddress;
        if (remote is null)
        {
            return false;
        }

        remote = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        foreach (var network in _options.TrustedNetworks)
        {
            if (network.Contains(remote))
            {
                return true;
            }
        }

        return false;
    }

    private TimeSpan Remaining(long started, RetryRules rules) => RoutingPipeline.Remaining(rules.Timeout, _time.GetElapsedTime(started));

    /// <summary>Sends the request on as received: its raw target (no re-encoding), its Host, and trusted routing headers only.</summary>
    private sealed class GatewayTransformer : HttpTransformer
    {
        public const string StripKey = "DynamicSubset.Routing.StripHeaders";
        public const string CookieKey = "DynamicSubset.Routing.SetCookie";
        public const string RetryStatusKey = "DynamicSubset.Routing.RetryStatus";
        public const string HeldBackKey = "DynamicSubset.Routing.HeldBack";
        private static readonly object HeldBack = new();
        private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.Headers.Host = httpContext.Request.Host.Value;

            // The path as the client wrote it: PathString would decode and re-encode it (..%2f became ..%252f).
            if (httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/' &&
                Uri.TryCreate(destinationPrefix + raw, in Verbatim, out var exact))
            {
                proxyRequest.RequestUri = exact;
            }

            if (httpContext.Items.TryGetValue(StripKey, out var value) && value is System.Collections.Immutable.ImmutableArray<HeaderMapping> mappings)
            {
                foreach (var mapping in mappings)
                {
                    proxyRequest.Headers.Remove(mapping.Header);
                }
            }
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            if (proxyResponse is not null && httpContext.Items.Count > 0 &&
                httpContext.Items.TryGetValue(RetryStatusKey, out var state) && state is StatusRetry retry && retry.HoldsBack((int)proxyResponse.StatusCode))
            {
                // Neither headers nor body reach the client: the gateway tries another endpoint.
                httpContext.Items[HeldBackKey] = HeldBack;
                return false;
            }

            var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
            if (proxyResponse is not null && httpContext.Items.Count > 0 && httpContext.Items.TryGetValue(CookieKey, out var cookie) && cookie is string setCookie)
            {
                httpContext.Response.Headers.Append("Set-Cookie", setCookie);
            }

            return copy;
        }
    }
}

/// <summary>
/// A try whose status the route may retry: the transformer holds such a response back only while time is left for
/// another try, so a status that cannot be retried reaches the client as the endpoint sent it.
/// </summary>
internal sealed class StatusRetry(RetryRules rules, long started, TimeProvider time)
{
    public bool HoldsBack(int statusCode) =>
        rules.RetriesStatus(statusCode) && RoutingPipeline.Remaining(rules.Timeout, time.GetElapsedTime(started)) != TimeSpan.Zero;
}

/// <summary>Reads the request's routing headers through the gateway's trust rules: untrusted callers and disallowed values count as absent.</summary>
internal readonly struct GatewayHeaderSource(IHeaderDictionary headers, bool trusted, IDictionary<string, ISet<string>> allowed) : IHeaderSource
{
    public bool TryGetValues(string name, ref HeaderValues values)
    {
        if (!trusted || !headers.TryGetValue(name, out var found))
        {
            return false;
        }

        if (allowed.Count > 0 && allowed.TryGetValue(name, out var allowedValues))
        {
            foreach (var value in found)
            {
                if (value is null || !allowedValues.Contains(value))
                {
                    return false;
                }
            }
        }

        return new HeaderDictionarySource(headers).TryGetValues(name, ref values);
    }
}
