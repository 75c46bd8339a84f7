using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Sends each request straight to the endpoint its headers resolve to. Holds no per-request state: it reads the
/// current snapshot per request, so IHttpClientFactory may recycle it freely.
/// </summary>
internal sealed partial class DynamicSubsetHandler(
    RoutingSource source, DynamicSubsetHttpOptions options, RoutingTelemetry telemetry, ILogger logger) : DelegatingHandler
{
    private const string NoHealthyUpstreamBody = "no healthy upstream";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var original = request.RequestUri;
        if (original is not { IsAbsoluteUri: true } || !source.TryGet(original, out var resolver, out var service))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        // Headers carried from the inbound request count for routing too, whatever the handler order.
        RoutingHeaderContext.Current?.ApplyTo(request.Headers);
        var resolution = resolver.Resolve(new HttpRequestHeadersSource(request.Headers));
        telemetry.RecordResolution(service, resolution);
        if (!resolution.HasEndpoint)
        {
            Log.NoHealthyUpstream(logger, service, resolution.ToString());
            return options.NoHealthyUpstream == NoHealthyUpstreamBehavior.Throw
                ? throw new NoHealthyUpstreamException(service, resolution)
                : new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    RequestMessage = request,
                    Content = new StringContent(NoHealthyUpstreamBody, Encoding.UTF8, "text/plain"),
                };
        }

        var setHost = options.PreserveHostHeader && request.Headers.Host is null;
        if (setHost)
        {
            request.Headers.Host = original.Authority;
        }

        List<EndpointAddress>? tried = null;
        var previousDecision = RoutingActivityEnricher.Set(new RoutingActivityEnricher.Decision(service, resolution));
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                request.RequestUri = Rewrite(original, resolution.Endpoint!);
                using var inFlight = resolution.TrackRequest();
                try
                {
                    return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError &&
                    attempt < options.ConnectRetries && CanResend(request))
                {
                    // Nothing reached the endpoint: try another one of the same set, never one already tried.
                    (tried ??= []).Add(resolution.Endpoint!.AddressKey);
                    if (!resolution.TryPickAnother(tried, out var next))
                    {
                        throw;
                    }

                    Log.Retrying(logger, service, resolution.Endpoint!.Authority, next.Endpoint!.Authority, e.Message);
                    telemetry.RecordRetry(service);
                    resolution = next;
                    RoutingActivityEnricher.Set(new RoutingActivityEnricher.Decision(service, resolution));
                }
            }
        }
        finally
        {
            // Leave the request as it came, so an outer handler (a retry policy) sends it through routing again.
            request.RequestUri = original;
            if (setHost)
            {
                request.Headers.Host = null;
            }

            RoutingActivityEnricher.Set(previousDecision);
        }
    }

    private static Uri Rewrite(Uri original, Endpoint endpoint) =>
        new($"{original.Scheme}://{endpoint.Authority}{original.PathAndQuery}{original.Fragment}", UriKind.Absolute);

    /// <summary>A connect failure happens before the body is read; still, only resend a body that can be read again.</summary>
    private static bool CanResend(HttpRequestMessage request) =>
        request.Content is null or ByteArrayContent or ReadOnlyMemoryContent;

    private static partial class Log
    {
        [LoggerMessage(EventId = 20, EventName = "NoHealthyUpstream", Level = LogLevel.Warning,
            Message = "No healthy upstream for {Service}: {Resolution}.")]
        public static partial void NoHealthyUpstream(ILogger logger, string service, string resolution);

        [LoggerMessage(EventId = 21, EventName = "ConnectRetry", Level = LogLevel.Information,
            Message = "Could not connect to {Endpoint} of {Service}; retrying on {Next}: {Reason}")]
        public static partial void Retrying(ILogger logger, string service, string endpoint, string next, string reason);
    }
}
