using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

public sealed partial class RoutingPipeline
{
    /// <summary>
    /// The attempt loop, the same for every entry point: sends a decided request to its endpoint through
    /// <paramref name="transport"/>, reports each response and failure to outlier detection, and while the rules allow,
    /// sends it again to an endpoint of the same resolved set that it has not tried (the route's <c>retries</c> and
    /// <c>timeout</c>, or the entry point's defaults). Retries, ejections and failures are recorded here, once.
    /// </summary>
    /// <param name="decision">The decision, with an endpoint (<see cref="Resolution.HasEndpoint"/>).</param>
    /// <param name="rules">The request's retries and timeouts.</param>
    /// <param name="method">The request's method: after a timeout or a reset, by default only an idempotent one is sent again.</param>
    /// <param name="transport">Sends one try.</param>
    /// <param name="cancellationToken">Cancelled when the caller goes away.</param>
    /// <returns>How the tries ended; the entry point writes the answer.</returns>
    public ValueTask<AttemptOutcome> SendAsync(RouteDecision decision, RetryRules rules, string method, IAttemptTransport transport, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(transport);
        var pool = decision.Service ?? throw new ArgumentException("the decision has no service: a request without a route gets no try", nameof(decision));
        var resolution = decision.Resolution;
        if (!resolution.HasEndpoint)
        {
            throw new ArgumentException("the decision has no endpoint: answer 'no healthy upstream' instead of trying", nameof(decision));
        }

        // A pool with connection limits passes its circuit breaker first; one without pays nothing for it.
        return pool.ConnectionPool is { HasRequestLimits: true } limits
            ? SendGatedAsync(Gate(pool, limits), pool, resolution, rules, method, transport, cancellationToken)
            : SendWithinAsync(null, pool, resolution, rules, method, transport, cancellationToken);
    }

    /// <summary>A request past the pool's limits gets no try at all: 503 <c>overflow</c>, counted.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptOutcome> SendGatedAsync(
        PoolGate gate, RoutedService pool, Resolution resolution, RetryRules rules, string method, IAttemptTransport transport, CancellationToken cancellationToken)
    {
        if (!await gate.EnterAsync(rules.Timeout, cancellationToken).ConfigureAwait(false))
        {
            _telemetry.RecordOverflow(pool.Name);
            var overflow = new AttemptOutcome(AttemptOutcomeKind.Overflow, 0, resolution.Endpoint!, default, null);
            await transport.CompleteAsync(overflow).ConfigureAwait(false);
            return overflow;
        }

        try
        {
            return await SendWithinAsync(gate, pool, resolution, rules, method, transport, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Exit();
        }
    }

    /// <summary>The pool's gate, kept with its resolver (which lives across reloads) while its limits and protocol stay the same.</summary>
    private PoolGate Gate(RoutedService pool, ConnectionPoolPolicy limits)
    {
        var gate = _gates.GetValue(pool.Resolver, _ => new PoolGate(limits, pool.Protocol));
        if (gate.Limits == limits && gate.Protocol == pool.Protocol)
        {
            return gate;
        }

        var next = new PoolGate(limits, pool.Protocol); // requests inside the old gate leave through it
        _gates.AddOrUpdate(pool.Resolver, next);
        return next;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // per request: its state box is pooled, not allocated
    private async ValueTask<AttemptOutcome> SendWithinAsync(
        PoolGate? gate, RoutedService pool, Resolution resolution, RetryRules rules, string method, IAttemptTransport transport, CancellationToken cancellationToken)
    {
        // The overall deadline is a timestamp, not a second cancellation source: each try gets one budget, the shorter of
        // the per-try timeout and what is left.
        var started = _time.GetTimestamp();
        var tries = new Tries(gate);
        try
        {
            for (var number = 0; ; number++)
            {
                // The first try starts with the whole of the overall timeout: no clock read for it.
                var budget = Shorter(rules.PerTryTimeout, number == 0 ? rules.Timeout : Remaining(rules.Timeout, _time.GetElapsedTime(started)));
                AttemptResult result;
                using (resolution.TrackRequest())
                {
                    // Made in the call, so that the attempt is not kept in the loop's state across the await.
                    result = await transport.SendAsync(
                        new Attempt(resolution.Endpoint!, resolution, number, budget,
                            mayHoldBack: rules.RetriesAnyStatus && number < rules.Attempts && transport.CanResend && (gate?.RetryAvailable ?? true), rules, started, _time),
                        cancellationToken).ConfigureAwait(false);
                }

                tries.EndRetry();
                if (TryAgain(ref tries, pool, rules, method, started, number, resolution, result, transport.CanResend, out var outcome))
                {
                    transport.Discard();
                    resolution = tries.Next;
                    continue;
                }

                await transport.CompleteAsync(outcome).ConfigureAwait(false);
                return outcome;
            }
        }
        finally
        {
            tries.EndRetry();
        }
    }

    /// <summary>
    /// What one try's result means: reported to outlier detection, then either another try (on an endpoint of the same
    /// resolved set not tried yet, while the rules, the time and the pool's retry budget allow: <see langword="true"/>,
    /// with <see cref="Tries.Next"/>) or how the request ends (<paramref name="outcome"/>).
    /// </summary>
    private bool TryAgain(
        ref Tries tries, RoutedService pool, in RetryRules rules, string method, long started, int number, Resolution resolution, in AttemptResult result, bool canResend, out AttemptOutcome outcome)
    {
        var endpoint = result.Endpoint ?? resolution.Endpoint!;
        switch (result.Kind)
        {
            case AttemptResultKind.Response:
                ReportResponse(pool, endpoint, result.StatusCode);
                if (!result.HeldBack)
                {
                    outcome = new AttemptOutcome(AttemptOutcomeKind.Responded, number + 1, endpoint, default, null);
                    return false;
                }

                (tries.Tried ??= []).Add(endpoint.AddressKey);
                if (Remaining(rules.Timeout, _time.GetElapsedTime(started)) != TimeSpan.Zero && rules.TryNext(resolution, tries.Tried, out tries.Next) &&
                    tries.StartRetry()) // the pool's maxRetries: past it, the answer stands
                {
                    Retrying(pool, endpoint, tries.Next.Endpoint!, RetryReason.Status, $"HTTP {result.StatusCode}");
                    outcome = default;
                    return true;
                }

                // The time ran out between the hold-back and here: the last answer stands.
                outcome = new AttemptOutcome(AttemptOutcomeKind.HeldBack, number + 1, endpoint, RetryReason.Status, null);
                return false;

            case AttemptResultKind.Abandoned:
                if (result.UpstreamFault)
                {
                    ReportFailure(pool, endpoint, RetryReason.Reset);
                    Failed(pool, endpoint, result.Detail ?? "the response failed after it had started");
                }

                outcome = new AttemptOutcome(AttemptOutcomeKind.Abandoned, number + 1, endpoint, RetryReason.Reset, result.Error);
                return false;

            default:
                var reason = result.Reason;
                ReportFailure(pool, endpoint, reason);
                (tries.Tried ??= []).Add(endpoint.AddressKey);
                var left = Remaining(rules.Timeout, _time.GetElapsedTime(started));

                // Never the same endpoint twice while others are left; only a request that can be sent again; after a
                // timeout or a reset, by default only one that may be repeated, since the endpoint may have acted on it.
                if (number < rules.Attempts && canResend && rules.RetriesFailure(reason, method) &&
                    left != TimeSpan.Zero && rules.TryNext(resolution, tries.Tried, out tries.Next) &&
                    tries.StartRetry()) // the pool's maxRetries: past it, the failure stands
                {
                    Retrying(pool, endpoint, tries.Next.Endpoint!, reason, result.Detail ?? ReasonName(reason));
                    outcome = default;
                    return true;
                }

                Failed(pool, endpoint, reason == RetryReason.PerTryTimeout && left == TimeSpan.Zero
                    ? $"timed out after {rules.Timeout.TotalSeconds:0.###} s in all"
                    : result.Detail ?? ReasonName(reason));
                outcome = new AttemptOutcome(AttemptOutcomeKind.Failed, number + 1, endpoint, reason, result.Error);
                return false;
        }
    }

    /// <summary>One request's tries so far: the endpoints tried, the next resolution, and a retry it holds of the pool's <c>maxRetries</c>.</summary>
    private struct Tries(PoolGate? gate)
    {
        private bool _retrying; // a retry this request holds of the pool's maxRetries, until its try ends

        public List<EndpointAddress>? Tried;

        public Resolution Next;

        /// <summary>Takes one of the pool's retries (always, without limits); <see langword="false"/> when none is left.</summary>
        public bool StartRetry() => gate is null || (_retrying = gate.TryStartRetry());

        /// <summary>Gives back the retry the last try held.</summary>
        public void EndRetry()
        {
            if (_retrying)
            {
                gate!.EndRetry();
                _retrying = false;
            }
        }
    }

    /// <summary>Records a retry on another endpoint of the same resolved set.</summary>
    private void Retrying(RoutedService service, Endpoint from, Endpoint to, RetryReason reason, string detail)
    {
        _telemetry.RecordRetry(service.Name, reason);
        if (_logger.IsEnabled(LogLevel.Information) && _limiter.ShouldLog("retry", service.Name, out var suppressed))
        {
            var why = ReasonName(reason);
            Log.Retrying(_logger, service.Name, from.Authority, to.Authority, why, detail, suppressed);
        }
    }

    /// <summary>Records a request that failed after every try it was allowed.</summary>
    private void Failed(RoutedService service, Endpoint endpoint, string error)
    {
        if (_logger.IsEnabled(LogLevel.Warning) && _limiter.ShouldLog("failed", service.Name, out var suppressed))
        {
            Log.Failed(_logger, service.Name, endpoint.Authority, error, suppressed);
        }
    }

    /// <summary>Feeds outlier detection with a response; records and logs an ejection it causes.</summary>
    private void ReportResponse(RoutedService service, Endpoint endpoint, int statusCode)
    {
        if (service.Resolver.ReportResponse(endpoint, statusCode))
        {
            Ejected(service, endpoint, $"HTTP {statusCode}");
        }
    }

    /// <summary>Feeds outlier detection with a failure that got no response; records and logs an ejection it causes.</summary>
    private void ReportFailure(RoutedService service, Endpoint endpoint, RetryReason reason)
    {
        if (service.Resolver.ReportFailure(endpoint))
        {
            Ejected(service, endpoint, ReasonName(reason));
        }
    }

    private void Ejected(RoutedService service, Endpoint endpoint, string last)
    {
        _telemetry.RecordEjection(service.Name);
        if (!_logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        var until = service.Resolver.Ejections.FirstOrDefault(e => e.Address == endpoint.AddressKey).Until;
        Log.Ejected(_logger, service.Name, endpoint.Authority, last, until); // at most one line per ejection: bounded
    }
}
