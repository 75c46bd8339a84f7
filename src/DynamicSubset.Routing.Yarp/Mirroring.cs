using DynamicSubset.Routing.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// A route's <c>mirror</c>/<c>mirrors</c>: a copy of a share of its requests sent, fire and forget, to an endpoint the
/// mirror host's own pool resolves (dynamic subsets apply there too), with <c>-shadow</c> appended to the Host as Envoy
/// does. The copy's answer is dropped; a slow, failing or missing mirror never delays or fails the request itself.
/// </summary>
internal sealed partial class Mirroring(HttpMessageInvoker invoker, ILogger logger, int maxBody, int maxInFlight = 256)
{
    private static readonly TimeSpan CopyTimeout = TimeSpan.FromSeconds(10);
    private int _inFlight;

    /// <summary>
    /// Copies the request to each mirror whose share draws it. A body is copied only when it is at most the bound and its
    /// length is known: it is read first (and rewound for the request itself); a larger one is not mirrored.
    /// </summary>
    public async ValueTask CopyAsync(HttpContext context, HttpRouteRule route)
    {
        List<HttpMirror>? drawn = null;
        foreach (var mirror in route.Mirrors)
        {
            if (mirror.CopiesThis(Random.Shared.NextDouble()))
            {
                (drawn ??= []).Add(mirror);
            }
        }

        if (drawn is null)
        {
            return;
        }

        var request = context.Request;
        byte[]? body = null;
        if (request.ContentLength is > 0 and var length)
        {
            if (length > maxBody)
            {
                Skipped(logger, route.Name ?? "", length, maxBody);
                return;
            }

            request.EnableBuffering();
            body = new byte[length];
            try
            {
                await request.Body.ReadExactlyAsync(body, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
            {
                // A body shorter than its length, or a client gone: no copy; the request itself meets the same body.
                request.Body.Position = 0;
                return;
            }

            request.Body.Position = 0;
        }
        else if (request.ContentLength is null && request.Headers.ContainsKey("Transfer-Encoding"))
        {
            return; // a streamed body of unknown length is not held for a copy
        }

        var facts = DynamicSubsetGateway.Facts(context);
        var headers = new HeaderDictionarySource(request.Headers);
        foreach (var mirror in drawn)
        {
            var decision = mirror.Destination.Service.Route(facts, headers);
            if (decision.Resolution.Endpoint is not { } endpoint)
            {
                continue; // no endpoint for the copy: nothing to send
            }

            if (Interlocked.Increment(ref _inFlight) > maxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                continue; // copies never pile up behind a slow mirror
            }

            var copy = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{endpoint.Authority}{facts.Path}");
            foreach (var (name, values) in request.Headers)
            {
                if (!name.StartsWith(':') && !Hop(name))
                {
                    copy.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                }
            }

            copy.Headers.Host = HttpMirror.ShadowHost(request.Host.Value ?? mirror.Destination.Host);
            if (body is not null)
            {
                copy.Content = new ByteArrayContent(body);
                foreach (var (name, values) in request.Headers)
                {
                    if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                    {
                        copy.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                    }
                }
            }

            _ = SendAsync(copy, mirror.Destination.Host);
        }
    }

    private static bool Hop(string name) =>
        name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase) || name.Equals("TE", StringComparison.OrdinalIgnoreCase) ||
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase);

    private async Task SendAsync(HttpRequestMessage copy, string host)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CopyTimeout);
            using var response = await invoker.SendAsync(copy, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            CopyFailed(logger, host, e.Message);
        }
        finally
        {
            copy.Dispose();
            Interlocked.Decrement(ref _inFlight);
        }
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Debug, Message = "A mirrored copy to {Host} failed: {Reason}.")]
    private static partial void CopyFailed(ILogger logger, string host, string reason);

    [LoggerMessage(EventId = 51, Level = LogLevel.Debug, Message = "Route {Route}: a body of {Length} bytes is over the mirror bound ({Bound}); not mirrored.")]
    private static partial void Skipped(ILogger logger, string route, long length, int bound);
}
