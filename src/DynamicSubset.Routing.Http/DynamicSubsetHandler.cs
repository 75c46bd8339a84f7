using System.Diagnostics;
using System.Net;
using System.Runtime.ExceptionServices;
using System.Text;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Sends each request straight to the endpoint it routes to (the service's VirtualService routes, then dynamic subsets in
/// the picked pool), with the route's retries and timeouts, or by default connect-failure and per-try-timeout retries
/// inside the resolved set. Holds no per-request state: it reads the catalog's current snapshot per request,
/// so IHttpClientFactory may recycle it freely.
/// </summary>
internal sealed class DynamicSubsetHandler(RoutingCatalog catalog, DynamicSubsetHttpOptions options, RoutingPipeline pipeline) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var original = request.RequestUri;
        if (original is not { IsAbsoluteUri: true } || !catalog.Current.TryFind(options.Service ?? original.IdnHost, out var service))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false); // not ours: untouched
        }

        // Headers carried from the inbound request count for routing too, whatever the handler order.
        RoutingHeaderContext.Current?.ApplyTo(request.Headers);
        // Only a service with routes, or with a hash key that may be in the query, needs the path and the authority.
        var facts = !service.Routes.IsEmpty || service.Resolver.Current.Policy.ConsistentHash is not null
            ? new RouteRequest(request.Method.Method, original.PathAndQuery, original.Authority, original.Scheme, original.Port)
            : new RouteRequest(request.Method.Method, "/");
        var decision = pipeline.Decide(service, facts, new HttpRequestHeadersSource(request.Headers), activity: null);
        if (decision.IsNoRoute)
        {
            return options.FailureBehavior == RoutingFailureBehavior.Throw
                ? throw new NoRouteException(service.Name, facts.Method, facts.Path)
                : Respond(request, HttpStatusCode.NotFound, RoutingPipeline.NoRouteBody);
        }

        var pool = decision.Service;
        var resolution = decision.Resolution;
        if (!resolution.HasEndpoint)
        {
            return options.FailureBehavior == RoutingFailureBehavior.Throw
                ? throw new NoHealthyUpstreamException(pool.Name, resolution)
                : Respond(request, HttpStatusCode.ServiceUnavailable, RoutingPipeline.NoHealthyUpstreamBody);
        }

        var setHost = options.PreserveHostHeader && request.Headers.Host is null;
        if (setHost)
        {
            request.Headers.Host = original.Authority;
        }

        // The overall deadline is a timestamp, not a second cancellation source: each try gets one source, whose
        // timer is the shorter of the per-try timeout and what is left.
        var rules = RetryRules.For(decision.Route, options.ConnectRetries, options.PerTryTimeout, options.Timeout);
        var setCookie = decision.SetCookie; // the decision itself stays out of the async state: a smaller box per request
        var started = Stopwatch.GetTimestamp();
        List<EndpointAddress>? tried = null;
        var retries = 0;
        var previousDecision = RoutingActivityEnricher.Set(new RoutingActivityEnricher.Decision(pool.Name, resolution));
        try
        {
            while (true)
            {
                var endpoint = resolution.Endpoint!;
                request.RequestUri = Rewrite(original, endpoint);
                RetryReason reason;
                Exception? failure = null;
                HttpResponseMessage? retried = null;
                using (var inFlight = resolution.TrackRequest())
                using (var perTry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    if (RoutingPipeline.Shorter(rules.PerTryTimeout, Remaining(started, rules)) is var budget && budget != Timeout.InfiniteTimeSpan)
                    {
                        perTry.CancelAfter(budget);
                    }

                    try
                    {
                        var response = await base.SendAsync(request, perTry.Token).ConfigureAwait(false);
                        pipeline.ReportResponse(pool, endpoint, (int)response.StatusCode);
                        if (!rules.RetriesStatus((int)response.StatusCode) || retries >= rules.Attempts || !CanResend(request))
                        {
                            if (setCookie is { } cookie)
                            {
                                response.Headers.TryAddWithoutValidation("Set-Cookie", cookie);
                            }

                            return response;
                        }

                        (reason, retried) = (RetryReason.Status, response);
                    }
                    catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
                    {
                        (reason, failure) = (RetryReason.ConnectFailure, e);
                    }
                    catch (OperationCanceledException e) when (perTry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    {
                        if (Remaining(started, rules) == TimeSpan.Zero)
                        {
                            // The overall timeout: no time is left for another try.
                            pipeline.ReportFailure(pool, endpoint, RetryReason.PerTryTimeout);
                            pipeline.Failed(pool, endpoint, $"timed out after {rules.Timeout.TotalSeconds:0.###} s in all");
                            return TimedOut(request, pool, e);
                        }

                        (reason, failure) = (RetryReason.PerTryTimeout, e);
                    }
                }

                if (failure is not null)
                {
                    pipeline.ReportFailure(pool, endpoint, reason);
                }

                // Never the same endpoint twice while others are left; only a body that can be sent again; after a
                // timeout, by default only a request that may be repeated, since the endpoint may have acted on it.
                (tried ??= []).Add(endpoint.AddressKey);
                if ((retried is not null || (retries < rules.Attempts && CanResend(request) && rules.RetriesFailure(reason, request.Method.Method))) &&
                    Remaining(started, rules) != TimeSpan.Zero &&
                    rules.TryNext(resolution, tried, out var next))
                {
                    pipeline.Retrying(pool, endpoint, next.Endpoint!, reason, retried is not null ? $"HTTP {(int)retried.StatusCode}" : failure!.Message);
                    retried?.Dispose();
                    resolution = next;
                    retries++;
                    RoutingActivityEnricher.Set(new RoutingActivityEnricher.Decision(pool.Name, resolution));
                    continue;
                }

                if (retried is not null)
                {
                    return retried; // no time or endpoint left: the last answer stands
                }

                pipeline.Failed(pool, endpoint, failure!.Message);
                if (reason == RetryReason.PerTryTimeout)
                {
                    return TimedOut(request, pool, failure);
                }

                ExceptionDispatchInfo.Throw(failure);
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

    private static TimeSpan Remaining(long started, RetryRules rules) => RoutingPipeline.Remaining(rules.Timeout, Stopwatch.GetElapsedTime(started));

    private HttpResponseMessage TimedOut(HttpRequestMessage request, RoutedService service, Exception cause) =>
        options.FailureBehavior == RoutingFailureBehavior.Throw
            ? throw new TaskCanceledException($"The request to {service.Name} timed out.", new TimeoutException(cause.Message, cause))
            : Respond(request, HttpStatusCode.GatewayTimeout, RoutingPipeline.UpstreamTimeoutBody);

    private static HttpResponseMessage Respond(HttpRequestMessage request, HttpStatusCode status, string body) =>
        new(status) { RequestMessage = request, Content = new StringContent(body, Encoding.UTF8, "text/plain") };

    private static Uri Rewrite(Uri original, Endpoint endpoint) =>
        new($"{original.Scheme}://{endpoint.Authority}{original.PathAndQuery}{original.Fragment}", UriKind.Absolute);

    /// <summary>Only a body that can be read again is sent again.</summary>
    private static bool CanResend(HttpRequestMessage request) =>
        request.Content is null or ByteArrayContent or ReadOnlyMemoryContent;
}
