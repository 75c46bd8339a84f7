using System.Globalization;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// What a VirtualService route does at the gateway besides choosing an endpoint, in Envoy's filter order: CORS (an
/// allowed preflight answered here), then fault injection (delay, abort), then the route's own answer (redirect, direct
/// response); and, on the way through, the rewrite and the header operations. Routing headers were read before any of
/// this changes the request.
/// </summary>
internal static class RouteActions
{
    /// <summary>Envoy's body for an aborted request.</summary>
    public const string FaultAbortBody = "fault filter abort";

    /// <summary>
    /// Answers the request here when its route says so: an allowed CORS preflight, a fault's abort, a redirect or a direct
    /// response. Applies a fault's delay first. Returns <see langword="true"/> when the request is answered.
    /// </summary>
    public static async ValueTask<bool> TryAnswerAsync(HttpContext context, HttpRouteRule route)
    {
        var request = context.Request;
        if (route.CorsPolicy is { } cors && IsPreflight(request, out var origin) && cors.Allows(origin))
        {
            WritePreflight(context.Response, cors, origin);
            return true;
        }

        if (route.Fault is { } fault)
        {
            if (fault.DelaysThis(Random.Shared.NextDouble()))
            {
                try
                {
                    await Task.Delay(fault.Delay, context.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    return true; // the client left during the delay: nothing to send, nothing to answer
                }
            }

            if (fault.AbortsThis(Random.Shared.NextDouble()))
            {
                await (fault.AbortGrpcStatus is { } grpc && GrpcProtocol.IsGrpc(request.ContentType)
                    ? DynamicSubsetGateway.WriteAsync(context, StatusCodes.Status200OK, FaultAbortBody, grpc)
                    : DynamicSubsetGateway.WriteAsync(context, fault.AbortStatus ?? StatusCodes.Status503ServiceUnavailable, FaultAbortBody)).ConfigureAwait(false);
                return true;
            }
        }

        if (route.Redirect is { } redirect)
        {
            context.Response.StatusCode = redirect.RedirectCode;
            context.Response.Headers.Location = redirect.Location(request.Scheme, request.Host.Value ?? "", DynamicSubsetGateway.Facts(context).Path);
            return true;
        }

        if (route.DirectResponse is { } direct)
        {
            context.Response.StatusCode = direct.Status;
            if (!direct.Body.IsEmpty)
            {
                context.Response.ContentType = "text/plain";
                context.Response.ContentLength = direct.Body.Length;
                await context.Response.Body.WriteAsync(direct.Body, context.RequestAborted).ConfigureAwait(false);
            }

            return true;
        }

        return false;
    }

    /// <summary>
    /// The outgoing request as the route changes it: the path (<c>rewrite.uri</c>, <c>uriRegexRewrite</c>) and the
    /// authority rewritten, then the destination's header operations, then the route's.
    /// </summary>
    public static void ApplyToRequest(HttpContext context, HttpRequestMessage proxyRequest, RouteDecision decision, string destinationPrefix)
    {
        var route = decision.Route!;
        if (route.Rewrite is { } rewrite)
        {
            var original = DynamicSubsetGateway.Facts(context).Path;
            var rewritten = rewrite.Rewrite(original, decision.MatchedBlock);
            if (!ReferenceEquals(rewritten, original) && Uri.TryCreate(destinationPrefix + rewritten, in Verbatim, out var uri))
            {
                proxyRequest.RequestUri = uri;
            }

            if (rewrite.Authority is { } authority)
            {
                proxyRequest.Headers.Host = authority;
            }
        }

        decision.Destination?.Headers?.Request?.ApplyTo(new RequestWriter(proxyRequest));
        route.Headers?.Request?.ApplyTo(new RequestWriter(proxyRequest));
    }

    /// <summary>
    /// The pool's connection settings on a try: its <c>tcp.connectTimeout</c> for a connection the try opens (applied by
    /// <see cref="PoolConnections.ConnectAsync"/> where it is the connect step), and <c>http.maxRequestsPerConnection: 1</c>
    /// as a connection of its own for an HTTP/1.1 try.
    /// </summary>
    public static void ApplyConnectionSettings(HttpRequestMessage proxyRequest, ConnectionPoolPolicy? connections)
    {
        if (connections is null)
        {
            return;
        }

        if (connections.ConnectTimeout is { } connectTimeout)
        {
            proxyRequest.Options.Set(PoolConnections.ConnectTimeout, connectTimeout);
        }

        // A try that may go in HTTP/1.1 (YARP's default asks for 2 or lower): HTTP/2 leaves connection headers out.
        if (connections.MaxRequestsPerConnection == 1 && (proxyRequest.Version.Major == 1 || proxyRequest.VersionPolicy == HttpVersionPolicy.RequestVersionOrLower))
        {
            proxyRequest.Headers.ConnectionClose = true;
        }
    }

    /// <summary>The response as the route changes it: the destination's header operations, then the route's, then CORS for an allowed origin.</summary>
    public static void ApplyToResponse(HttpContext context, RouteDecision decision)
    {
        var route = decision.Route!;
        var headers = context.Response.Headers;
        decision.Destination?.Headers?.Response?.ApplyTo(new ResponseWriter(headers));
        route.Headers?.Response?.ApplyTo(new ResponseWriter(headers));
        if (route.CorsPolicy is { } cors && context.Request.Headers.Origin is { Count: 1 } origin && cors.Allows(origin.ToString()))
        {
            headers.AccessControlAllowOrigin = origin;
            if (cors.AllowCredentials)
            {
                headers.AccessControlAllowCredentials = "true";
            }

            if (!cors.ExposeHeaders.IsEmpty)
            {
                headers.AccessControlExposeHeaders = string.Join(",", cors.ExposeHeaders);
            }
        }
    }

    /// <summary>The outgoing request's headers (a content header is removed from the content too).</summary>
    private readonly struct RequestWriter(HttpRequestMessage message) : IHeaderWriter
    {
        public void Remove(string name)
        {
            message.Headers.Remove(name);
            message.Content?.Headers.Remove(name);
        }

        public void Replace(string name, string value)
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }

        public void Add(string name, string value) => message.Headers.TryAddWithoutValidation(name, value);
    }

    /// <summary>The response's headers, as the client will see them.</summary>
    private readonly struct ResponseWriter(IHeaderDictionary headers) : IHeaderWriter
    {
        public void Remove(string name) => headers.Remove(name);

        public void Replace(string name, string value) => headers[name] = value;

        public void Add(string name, string value) => headers.Append(name, value);
    }

    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>A CORS preflight: <c>OPTIONS</c> with <c>Origin</c> and <c>Access-Control-Request-Method</c>.</summary>
    private static bool IsPreflight(HttpRequest request, out string origin)
    {
        origin = request.Headers.Origin.ToString();
        return HttpMethods.IsOptions(request.Method) && origin.Length > 0 && !StringValues.IsNullOrEmpty(request.Headers.AccessControlRequestMethod);
    }

    private static void WritePreflight(HttpResponse response, HttpCorsPolicy cors, string origin)
    {
        response.StatusCode = StatusCodes.Status200OK;
        var headers = response.Headers;
        headers.AccessControlAllowOrigin = origin;
        if (!cors.AllowMethods.IsEmpty)
        {
            headers.AccessControlAllowMethods = string.Join(",", cors.AllowMethods);
        }

        if (!cors.AllowHeaders.IsEmpty)
        {
            headers.AccessControlAllowHeaders = string.Join(",", cors.AllowHeaders);
        }

        if (cors.MaxAge is { } maxAge)
        {
            headers.AccessControlMaxAge = ((long)maxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        if (cors.AllowCredentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }

        if (!cors.ExposeHeaders.IsEmpty)
        {
            headers.AccessControlExposeHeaders = string.Join(",", cors.ExposeHeaders);
        }
    }
}
