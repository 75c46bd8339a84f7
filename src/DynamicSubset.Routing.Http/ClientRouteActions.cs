using System.Net;
using System.Text;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// What a VirtualService route does in the HttpClient handler, as a sidecar would do it for its application: fault
/// injection, the route's own answers (redirect, direct response), the rewrite, header operations and mirroring. CORS
/// is a browser's concern and stays with the gateway. Every change to the request is undone afterwards, so an outer
/// retry policy sends the request as the application made it.
/// </summary>
internal static class ClientRouteActions
{
    /// <summary>The route's own answer to the request (a fault's abort, a redirect, a direct response), after a fault's delay; <see langword="null"/> to send it on.</summary>
    public static async ValueTask<HttpResponseMessage?> TryAnswerAsync(HttpRequestMessage request, HttpRouteRule route, Uri original, CancellationToken cancellationToken)
    {
        if (route.Fault is { } fault)
        {
            if (fault.DelaysThis(Random.Shared.NextDouble()))
            {
                await Task.Delay(fault.Delay, cancellationToken).ConfigureAwait(false);
            }

            if (fault.AbortsThis(Random.Shared.NextDouble()))
            {
                var response = Respond(request, (HttpStatusCode)(fault.AbortStatus ?? 200), "fault filter abort");
                if (fault.AbortGrpcStatus is { } grpc && fault.AbortStatus is null)
                {
                    response.Headers.TryAddWithoutValidation(GrpcProtocol.StatusHeader, grpc.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    response.Headers.TryAddWithoutValidation(GrpcProtocol.MessageHeader, GrpcProtocol.EncodeMessage("fault filter abort"));
                }

                return response;
            }
        }

        if (route.Redirect is { } redirect)
        {
            var response = new HttpResponseMessage((HttpStatusCode)redirect.RedirectCode) { RequestMessage = request };
            response.Headers.Location = new Uri(redirect.Location(original.Scheme, original.Authority, original.PathAndQuery), UriKind.Absolute);
            return response;
        }

        if (route.DirectResponse is { } direct)
        {
            return new HttpResponseMessage((HttpStatusCode)direct.Status) { RequestMessage = request, Content = new ReadOnlyMemoryContent(direct.Body) };
        }

        return null;
    }

    /// <summary>The path and query a try is sent with: the route's rewrite of the original's.</summary>
    public static string PathAndQuery(Uri original, RouteDecision decision) =>
        decision.Route?.Rewrite is { } rewrite ? rewrite.Rewrite(original.PathAndQuery, decision.MatchedBlock) : original.PathAndQuery;

    /// <summary>Applies the rewrite's authority and the header operations (the destination's, then the route's) to the request; returns how to undo them.</summary>
    public static HeaderUndo ApplyToRequest(HttpRequestMessage request, RouteDecision decision)
    {
        var undo = new HeaderUndo(request);
        if (decision.Route?.Rewrite?.Authority is { } authority)
        {
            undo.Keep("Host");
            request.Headers.Host = authority;
        }

        decision.Destination?.Headers?.Request?.ApplyTo(new RequestWriter(request, undo));
        decision.Route?.Headers?.Request?.ApplyTo(new RequestWriter(request, undo));
        return undo;
    }

    /// <summary>Applies the response header operations: the destination's, then the route's.</summary>
    public static void ApplyToResponse(HttpResponseMessage response, RouteDecision decision)
    {
        decision.Destination?.Headers?.Response?.ApplyTo(new ResponseWriter(response));
        decision.Route?.Headers?.Response?.ApplyTo(new ResponseWriter(response));
    }

    /// <summary>The request's headers, each change kept for <see cref="HeaderUndo.Undo"/>.</summary>
    private readonly struct RequestWriter(HttpRequestMessage message, HeaderUndo undo) : IHeaderWriter
    {
        public void Remove(string name)
        {
            undo.Keep(name);
            message.Headers.Remove(name);
        }

        public void Replace(string name, string value)
        {
            undo.Keep(name);
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }

        public void Add(string name, string value)
        {
            undo.Keep(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>The response's headers (a content header is removed from the content too).</summary>
    private readonly struct ResponseWriter(HttpResponseMessage message) : IHeaderWriter
    {
        public void Remove(string name)
        {
            message.Headers.Remove(name);
            message.Content.Headers.Remove(name);
        }

        public void Replace(string name, string value)
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }

        public void Add(string name, string value) => message.Headers.TryAddWithoutValidation(name, value);
    }

    /// <summary>
    /// Sends a copy of the request to each mirror whose share draws it, fire and forget, through <paramref name="send"/>:
    /// resolved in the mirror host's pool, its Host with <c>-shadow</c>. Only a body that can be read again is copied; a
    /// request with another kind of body is not mirrored.
    /// </summary>
    public static void Mirror(HttpRequestMessage request, HttpRouteRule route, Uri original, in RouteRequest facts, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send)
    {
        if (request.Content is not (null or ByteArrayContent or ReadOnlyMemoryContent))
        {
            return;
        }

        foreach (var mirror in route.Mirrors)
        {
            if (!mirror.CopiesThis(Random.Shared.NextDouble()) ||
                mirror.Destination.Service.Route(facts, new HttpRequestHeadersSource(request.Headers)).Resolution.Endpoint is not { } endpoint)
            {
                continue;
            }

            var copy = new HttpRequestMessage(request.Method, new Uri($"{original.Scheme}://{endpoint.Authority}{original.PathAndQuery}")) { Version = request.Version, VersionPolicy = request.VersionPolicy };
            foreach (var (name, values) in request.Headers)
            {
                copy.Headers.TryAddWithoutValidation(name, values);
            }

            copy.Headers.Host = HttpMirror.ShadowHost(request.Headers.Host ?? original.Authority);
            if (request.Content is { } content)
            {
                copy.Content = content; // read again by the copy: these contents are buffers
            }

            _ = SendCopyAsync(copy, send);
        }
    }

    private static async Task SendCopyAsync(HttpRequestMessage copy, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await send(copy, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // A copy's failure is nobody's concern: the request itself went on without waiting for it.
        }
    }

    private static HttpResponseMessage Respond(HttpRequestMessage request, HttpStatusCode status, string body) =>
        new(status) { RequestMessage = request, Content = new StringContent(body, Encoding.UTF8, "text/plain") };

    /// <summary>The request headers as they were before the route changed them.</summary>
    internal sealed class HeaderUndo(HttpRequestMessage request)
    {
        private Dictionary<string, string[]?>? _kept;

        public void Keep(string name)
        {
            _kept ??= new(StringComparer.OrdinalIgnoreCase);
            if (!_kept.ContainsKey(name))
            {
                _kept[name] = request.Headers.TryGetValues(name, out var values) ? [.. values] : null;
            }
        }

        public void Undo()
        {
            foreach (var (name, values) in _kept ?? [])
            {
                request.Headers.Remove(name);
                if (values is not null)
                {
                    request.Headers.TryAddWithoutValidation(name, values);
                }
            }
        }
    }
}
