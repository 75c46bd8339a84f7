using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Sends each request straight to the endpoint it routes to (the service's VirtualService routes, then dynamic subsets in
/// the picked pool), through the pipeline's attempt loop: the route's retries and timeouts, or by default connect-failure
/// and per-try-timeout retries inside the resolved set. Holds no per-request state: it reads the catalog's current
/// snapshot per request, so IHttpClientFactory may recycle it freely.
/// </summary>
internal sealed class DynamicSubsetHandler(RoutingCatalog catalog, DynamicSubsetHttpOptions options, RoutingPipeline pipeline) : DelegatingHandler
{
    // Validated at start (DynamicSubsetHttpOptionsValidator), so it parses.
    private readonly Locality? _locality = options.Locality is null ? null : Locality.Parse(options.Locality);

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
        var labels = options.SourceLabels.Count == 0 ? null : options.SourceLabels as IReadOnlyDictionary<string, string>;
        var facts = !service.Routes.IsEmpty || service.Resolver.Current.Policy.ConsistentHash is not null
            ? new RouteRequest(request.Method.Method, original.PathAndQuery, original.Authority, original.Scheme, original.Port) { SourceLabels = labels, SourceLocality = _locality }
            : new RouteRequest(request.Method.Method, "/") { SourceLabels = labels, SourceLocality = _locality };
        var decision = pipeline.Decide(service, facts, new HttpRequestHeadersSource(request.Headers), activity: null);
        if (decision.IsNoRoute)
        {
            return options.FailureBehavior == RoutingFailureBehavior.Throw
                ? throw new NoRouteException(service.Name, facts.Method, facts.Path)
                : Respond(request, HttpStatusCode.NotFound, RoutingPipeline.NoRouteBody);
        }

        var route = decision.Route is { } r && (r.AnswersItself || r.HasActions) ? r : null;
        if (route is not null)
        {
            // As a sidecar would: a fault, a redirect or a direct response is answered here; mirrors get their copies.
            if (await ClientRouteActions.TryAnswerAsync(request, route, original, cancellationToken).ConfigureAwait(false) is { } answer)
            {
                return answer;
            }

            if (!route.Mirrors.IsEmpty)
            {
                ClientRouteActions.Mirror(request, route, original, facts, SendInnerAsync);
            }
        }

        if (!decision.Resolution.HasEndpoint)
        {
            return options.FailureBehavior == RoutingFailureBehavior.Throw
                ? throw new NoHealthyUpstreamException(decision.Service.Name, decision.Resolution)
                : Respond(request, HttpStatusCode.ServiceUnavailable, RoutingPipeline.NoHealthyUpstreamBody);
        }

        var setHost = options.PreserveHostHeader && request.Headers.Host is null;
        if (setHost)
        {
            request.Headers.Host = original.Authority;
        }

        // The endpoints' HTTP version, as the mesh picks it from the service port: HTTP/2 with prior knowledge for a
        // gRPC or HTTP/2 port, HTTP/1.1 for an HTTP port, else the request's own (a GrpcChannel's is HTTP/2).
        var (version, versionPolicy) = (request.Version, request.VersionPolicy);
        switch (decision.Service.Protocol)
        {
            case UpstreamProtocol.Http2:
                (request.Version, request.VersionPolicy) = (HttpVersion.Version20, HttpVersionPolicy.RequestVersionExact);
                break;
            case UpstreamProtocol.Http1:
                (request.Version, request.VersionPolicy) = (HttpVersion.Version11, HttpVersionPolicy.RequestVersionOrLower);
                break;
        }

        var transport = new Transport(this, request, original, route is null ? original.PathAndQuery : ClientRouteActions.PathAndQuery(original, decision), decision.Service.Name, decision.Service.ConnectionPool);
        var undo = route is null ? null : ClientRouteActions.ApplyToRequest(request, decision);
        try
        {
            var rules = RetryRules.For(decision.Route, options.ConnectRetries, options.PerTryTimeout, options.Timeout);
            var outcome = await pipeline.SendAsync(decision, rules, request.Method.Method, transport, cancellationToken).ConfigureAwait(false);
            switch (outcome.Kind)
            {
                case AttemptOutcomeKind.Responded:
                    var response = transport.TakeResponse();
                    if (route is not null)
                    {
                        ClientRouteActions.ApplyToResponse(response, decision);
                    }

                    if (decision.SetCookie is { } cookie)
                    {
                        response.Headers.TryAddWithoutValidation("Set-Cookie", cookie);
                    }

                    return response;
                case AttemptOutcomeKind.HeldBack:
                    return transport.TakeResponse(); // no time or endpoint left for a retry: the last answer stands
                case AttemptOutcomeKind.Overflow:
                    // The pool's circuit breaker, as a sidecar's: 503 overflow, with nothing sent.
                    var overflow = Respond(request, HttpStatusCode.ServiceUnavailable, RoutingPipeline.OverflowBody);
                    overflow.Headers.TryAddWithoutValidation("x-envoy-overloaded", "true");
                    return overflow;
                default:
                    if (outcome.TimedOut)
                    {
                        return options.FailureBehavior == RoutingFailureBehavior.Throw
                            ? throw new TaskCanceledException($"The request to {decision.Service.Name} timed out.", new TimeoutException(outcome.Error?.Message, outcome.Error))
                            : Respond(request, HttpStatusCode.GatewayTimeout, RoutingPipeline.UpstreamTimeoutBody);
                    }

                    ExceptionDispatchInfo.Throw(outcome.Error!);
                    throw new UnreachableException();
            }
        }
        finally
        {
            // Leave the request as it came, so an outer handler (a retry policy) sends it through routing again.
            transport.Discard();
            undo?.Undo();
            request.RequestUri = original;
            (request.Version, request.VersionPolicy) = (version, versionPolicy);
            if (setHost)
            {
                request.Headers.Host = null;
            }
        }
    }

    private Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken cancellationToken) => base.SendAsync(request, cancellationToken);

    private static HttpResponseMessage Respond(HttpRequestMessage request, HttpStatusCode status, string body) =>
        new(status) { RequestMessage = request, Content = new StringContent(body, Encoding.UTF8, "text/plain") };

    /// <summary>One try through the inner handler: the request's URI pointed at the endpoint, under the try's own timeout.</summary>
    private sealed class Transport(DynamicSubsetHandler handler, HttpRequestMessage request, Uri original, string pathAndQuery, string pool, ConnectionPoolPolicy? connections) : IAttemptTransport
    {
        private HttpResponseMessage? _response;

        /// <summary>Gets a value indicating whether the request is a gRPC call (read once, from its content's type).</summary>
        private bool IsGrpc { get; } = request.Content is { } content && GrpcProtocol.IsGrpc(content.Headers.ContentType?.MediaType);

        /// <summary>Only a body that can be read again is sent again.</summary>
        public bool CanResend => request.Content is null or ByteArrayContent or ReadOnlyMemoryContent;

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<AttemptResult> SendAsync(Attempt attempt, CancellationToken cancellationToken)
        {
            // HttpClient's own activity starts below this frame: it takes the decision from here (RoutingActivityEnricher).
            RoutingActivityEnricher.Set(new RoutingActivityEnricher.Decision(pool, attempt.Resolution));
            request.RequestUri = new Uri($"{original.Scheme}://{attempt.Endpoint.Authority}{pathAndQuery}{original.Fragment}", UriKind.Absolute);
            using var perTry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (attempt.Budget != Timeout.InfiniteTimeSpan)
            {
                perTry.CancelAfter(attempt.Budget);
            }

            // The pool's connection settings: a connect timeout for a connection this try opens, and a connection per request.
            if (connections?.ConnectTimeout is { } connectTimeout)
            {
                request.Options.Set(PoolConnections.ConnectTimeout, connectTimeout);
            }

            var closeBefore = request.Headers.ConnectionClose;
            var closeEach = connections?.MaxRequestsPerConnection == 1 && request.Version.Major == 1;
            if (closeEach)
            {
                request.Headers.ConnectionClose = true;
            }

            try
            {
                var response = await handler.SendInnerAsync(request, perTry.Token).ConfigureAwait(false);
                _response = response;
                var status = (int)response.StatusCode;
                if (IsGrpc && response.Headers.TryGetValues(GrpcProtocol.StatusHeader, out var values) &&
                    GrpcProtocol.TryParseStatus(values.FirstOrDefault(), out var grpc))
                {
                    // A call refused at once (trailers-only): retried by the route's gRPC conditions, counted as Envoy counts it.
                    return AttemptResult.Response(GrpcProtocol.ToHttpStatus(grpc), heldBack: attempt.ShouldHoldBack(status, grpc));
                }

                return AttemptResult.Response(status, heldBack: attempt.ShouldHoldBack(status));
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
            {
                return AttemptResult.Failed(RetryReason.ConnectFailure, e, e.Message);
            }
            catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
            {
                return AttemptResult.Failed(RetryReason.Reset, e, e.Message);
            }
            catch (OperationCanceledException e) when (perTry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return AttemptResult.Failed(RetryReason.PerTryTimeout, e, e.Message);
            }
            finally
            {
                if (closeEach)
                {
                    request.Headers.ConnectionClose = closeBefore;
                }
            }
        }

        public HttpResponseMessage TakeResponse()
        {
            var response = _response!;
            _response = null;
            return response;
        }

        public void Discard()
        {
            _response?.Dispose();
            _response = null;
        }
    }
}
