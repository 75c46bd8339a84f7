using System.Net.Http.Headers;
using System.Text.Json;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// Holds a service's current <see cref="SubsetIndex"/> and resolves requests against it, without locks.
/// </summary>
/// <remarks>
/// <para>
/// Each resolution reads the current snapshot once and works on it alone, so it sees exactly one snapshot
/// even while updates are published. Updates build the next snapshot to the side and publish it with a
/// single reference write; writers are serialized among themselves, readers never wait.
/// </para>
/// <para>Resolving allocates nothing for the built-in header sources.</para>
/// </remarks>
public sealed class SubsetResolver
{
    private readonly Lock _writeLock = new();
    private readonly Random? _random;
    private readonly TimeProvider _time;
    private SubsetIndex _configured; // as configured, before ejections; written under the writer lock
    private SubsetIndex _current;    // what requests see: the configured snapshot with ejected endpoints unroutable
    private OutlierDetector? _outliers;

    /// <summary>Initializes a new instance of the <see cref="SubsetResolver"/> class.</summary>
    /// <param name="index">The first snapshot.</param>
    /// <param name="random">
    /// The random source for RANDOM and LEAST_REQUEST, for reproducible picks in tests; it must be safe to call
    /// from many threads. <see langword="null"/> (the default) for a fast per-thread generator.
    /// </param>
    /// <param name="timeProvider">The clock for outlier ejections; <see langword="null"/> for the system clock.</param>
    public SubsetResolver(SubsetIndex index, Random? random = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        _configured = index;
        _current = index;
        _random = random;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Raised after a new snapshot is published, on the publishing thread.</summary>
    public event EventHandler<SubsetIndexChangedEventArgs>? Changed;

    /// <summary>Gets the current snapshot: the one requests are resolved against, with ejected endpoints unroutable.</summary>
    public SubsetIndex Current => Volatile.Read(ref _current);

    /// <summary>Gets the endpoints ejected by outlier detection now, with when each returns.</summary>
    public IReadOnlyList<EndpointEjection> Ejections
    {
        get
        {
            if (Volatile.Read(ref _outliers) is not { } outliers)
            {
                return [];
            }

            lock (_writeLock)
            {
                return [.. outliers.Ejected.Select(a => outliers.TryGet(a, out var h)
                    ? new EndpointEjection(a, new DateTimeOffset(h.EjectedUntil, TimeSpan.Zero), h.Times)
                    : new EndpointEjection(a, DateTimeOffset.MinValue, 0)).OrderBy(static e => e.Address)];
            }
        }
    }

    /// <summary>
    /// Gets the snapshot as configured, before outlier ejections: what a source that sends incremental changes should
    /// compare its endpoints with (<see cref="Current"/> shows an ejected endpoint as unhealthy).
    /// </summary>
    public SubsetIndex Configured => Volatile.Read(ref _configured);

    /// <summary>Resolves a request's headers to one endpoint.</summary>
    /// <typeparam name="THeaders">The header source; a struct, so that nothing is boxed.</typeparam>
    /// <param name="headers">The request's headers.</param>
    /// <returns>What was decided.</returns>
    public Resolution Resolve<THeaders>(THeaders headers)
        where THeaders : IHeaderSource, allows ref struct
    {
        // One snapshot reference per call: everything below sees that snapshot only.
        return Volatile.Read(ref _current).Resolve(headers, _random);
    }

    /// <summary>Resolves a request with a consistent-hash key, used when the policy has <see cref="RoutingPolicy.ConsistentHash"/>.</summary>
    internal Resolution Resolve<THeaders>(THeaders headers, ulong? hashKey, in CallerContext caller = default)
        where THeaders : IHeaderSource, allows ref struct =>
        Volatile.Read(ref _current).Resolve(headers, _random, hashKey, caller);

    /// <summary>Resolves a request whose headers are in a dictionary.</summary>
    /// <param name="headers">The request's headers; names match case-insensitively.</param>
    /// <returns>What was decided.</returns>
    public Resolution Resolve(IReadOnlyDictionary<string, string> headers) => Resolve(new DictionaryHeaderSource(headers));

    /// <summary>Resolves an outgoing request's headers.</summary>
    /// <param name="headers">The request's headers.</param>
    /// <returns>What was decided.</returns>
    public Resolution Resolve(HttpRequestHeaders headers) => Resolve(new HttpRequestHeadersSource(headers));

    /// <summary>
    /// Reports the response an endpoint gave, for outlier detection. A no-op unless the policy has
    /// <see cref="RoutingPolicy.OutlierDetection"/>; lock-free unless this report ejects the endpoint.
    /// </summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="statusCode">The HTTP status code.</param>
    /// <returns><see langword="true"/> if this report ejected the endpoint.</returns>
    public bool ReportResponse(Endpoint endpoint, int statusCode)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return Report(endpoint.AddressKey, statusCode);
    }

    /// <summary>
    /// Reports a failure that never got a response: the connection was refused or reset, or the try timed out.
    /// It counts as a gateway error (and so as a 5xx), as in Envoy.
    /// </summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns><see langword="true"/> if this report ejected the endpoint.</returns>
    public bool ReportFailure(Endpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return Report(endpoint.AddressKey, statusCode: null);
    }

    /// <summary>Publishes a snapshot built elsewhere.</summary>
    /// <param name="index">The new snapshot.</param>
    public void Publish(SubsetIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        Update(_ => index);
    }

    /// <summary>Replaces every endpoint, keeping the policy; publishes and returns the new snapshot.</summary>
    /// <param name="endpoints">The service's endpoints.</param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="RoutingValidationException">The endpoints are invalid; the current snapshot keeps serving.</exception>
    public SubsetIndex ReplaceEndpoints(IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return Update(current => current.Rebuild(endpoints));
    }

    /// <summary>Applies endpoint changes incrementally; publishes and returns the new snapshot.</summary>
    /// <param name="changes">The changes, in order.</param>
    /// <returns>The published snapshot (the current one when nothing changed).</returns>
    /// <exception cref="RoutingValidationException">A change is invalid; the current snapshot keeps serving.</exception>
    public SubsetIndex ApplyChanges(IEnumerable<EndpointChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return Update(current => current.Apply(changes));
    }

    /// <summary>Replaces the endpoints and the policy in one snapshot; publishes and returns it.</summary>
    /// <param name="endpoints">The service's endpoints.</param>
    /// <param name="policy">The new policy.</param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="RoutingValidationException">The endpoints are invalid; the current snapshot keeps serving.</exception>
    public SubsetIndex Replace(IEnumerable<Endpoint> endpoints, RoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(policy);
        return Update(current => current.Rebuild(endpoints, policy));
    }

    /// <summary>Replaces the routing policy, keeping the endpoints; publishes and returns the new snapshot.</summary>
    /// <param name="policy">The new policy.</param>
    /// <returns>The published snapshot.</returns>
    public SubsetIndex UpdatePolicy(RoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Update(current => current.WithPolicy(policy));
    }

    private SubsetIndex Update(Func<SubsetIndex, SubsetIndex> next)
    {
        SubsetIndex previous, published;
        lock (_writeLock)
        {
            previous = _current;
            // Built from the configured snapshot, so a configuration change never loses or fakes an ejection.
            var configured = next(_configured); // Throws before anything is published: the last good snapshot stays.
            if (ReferenceEquals(configured, _configured))
            {
                return previous;
            }

            ForgetDeparted(configured);
            published = Effective(configured); // ejections carry over to the addresses that carry on
            Volatile.Write(ref _configured, configured);

            // Publish by swap: readers that already hold the previous snapshot finish on it.
            Volatile.Write(ref _current, published);
        }

        // Then signal, outside the lock, so a handler may publish again without deadlock.
        Changed?.Invoke(this, new SubsetIndexChangedEventArgs(previous, published));
        return published;
    }

    private bool Report(EndpointAddress address, int? statusCode)
    {
        if (Volatile.Read(ref _current).Policy.OutlierDetection is not { } policy)
        {
            return false;
        }

        var gateway = statusCode is null or 502 or 503 or 504;
        if (!gateway && statusCode < 500)
        {
            // A success only ends a run: an address that never failed needs no state.
            if (Volatile.Read(ref _outliers) is { } known && known.TryGet(address, out var healthy))
            {
                healthy.Succeeded();
            }

            return false;
        }

        var outliers = Volatile.Read(ref _outliers) ?? EnsureOutliers();
        var health = outliers.For(address);

        var in5xxRun = Interlocked.Increment(ref health.Consecutive5xx);
        int inGatewayRun;
        if (gateway)
        {
            inGatewayRun = Interlocked.Increment(ref health.ConsecutiveGateway);
        }
        else
        {
            inGatewayRun = 0;
            Volatile.Write(ref health.ConsecutiveGateway, 0);
        }

        return ((policy.Consecutive5xxErrors > 0 && in5xxRun >= policy.Consecutive5xxErrors) ||
                (policy.ConsecutiveGatewayErrors > 0 && inGatewayRun >= policy.ConsecutiveGatewayErrors)) &&
               TryEject(address, health, policy, outliers);
    }

    private OutlierDetector EnsureOutliers()
    {
        var created = new OutlierDetector();
        return Interlocked.CompareExchange(ref _outliers, created, null) ?? created;
    }

    private bool TryEject(EndpointAddress address, EndpointHealth health, OutlierDetectionPolicy policy, OutlierDetector outliers)
    {
        SubsetIndex previous, published;
        lock (_writeLock)
        {
            var now = _time.GetUtcNow();
            Volatile.Write(ref health.Consecutive5xx, 0);
            Volatile.Write(ref health.ConsecutiveGateway, 0);
            if (outliers.Ejected.Contains(address) || _configured.FindEndpoint(address) is not { IsHealthy: true })
            {
                return false; // already out, or not (or no longer) one of ours
            }

            // At most maxEjectionPercent of the service at once, but always at least one endpoint (Envoy).
            var max = Math.Max(1, _configured.EndpointCount * policy.MaxEjectionPercent / 100);
            if (outliers.Ejected.Count >= max)
            {
                return false;
            }

            health.Times++;
            var duration = TimeSpan.FromTicks(Math.Min(policy.BaseEjectionTime.Ticks * health.Times, OutlierDetectionPolicy.MaxEjectionTime.Ticks));
            health.EjectedUntil = (now + duration).UtcTicks;
            outliers.Ejected = outliers.Ejected.Add(address);
            outliers.Timer ??= _time.CreateTimer(static s => ((SubsetResolver)s!).Review(), this, policy.Interval, policy.Interval);

            previous = _current;
            published = Effective(_configured);
            Volatile.Write(ref _current, published);
        }

        if (!ReferenceEquals(previous, published))
        {
            Changed?.Invoke(this, new SubsetIndexChangedEventArgs(previous, published));
        }

        return true;
    }

    /// <summary>Every interval: returns the endpoints whose time is up, and lowers the multipliers of the rest.</summary>
    private void Review()
    {
        try
        {
            SubsetIndex previous, published;
            lock (_writeLock)
            {
                var outliers = _outliers!;
                var now = _time.GetUtcNow().UtcTicks;
                var ejected = outliers.Ejected;
                foreach (var (address, health) in outliers.All)
                {
                    if (ejected.Contains(address))
                    {
                        if (health.EjectedUntil <= now)
                        {
                            ejected = ejected.Remove(address);
                        }
                    }
                    else if (health.Times > 0)
                    {
                        health.Times--;
                    }
                    else if (_configured.FindEndpoint(address) is null)
                    {
                        outliers.Forget(address); // gone from the service
                    }
                }

                outliers.Ejected = ejected;
                if (ejected.IsEmpty && outliers.All.All(static h => h.Value.Times == 0))
                {
                    outliers.Timer?.Dispose();
                    outliers.Timer = null;
                }

                previous = _current;
                published = Effective(_configured);
                Volatile.Write(ref _current, published);
            }

            if (!ReferenceEquals(previous, published))
            {
                Changed?.Invoke(this, new SubsetIndexChangedEventArgs(previous, published));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Nothing may escape a timer callback; the snapshot serving now stays, and the next review tries again.
        }
    }

    /// <summary>
    /// Forgets the failure runs of addresses that left the service and have nothing else to remember (no ejection, no
    /// raised multiplier: those the review forgets in time). Without this, pods that come and go with new IPs would
    /// leave their state behind for as long as nothing is ejected. Under the writer lock.
    /// </summary>
    private void ForgetDeparted(SubsetIndex configured)
    {
        if (Volatile.Read(ref _outliers) is not { } outliers)
        {
            return;
        }

        foreach (var (address, health) in outliers.All)
        {
            if (health.Times == 0 && !outliers.Ejected.Contains(address) && configured.FindEndpoint(address) is null)
            {
                outliers.Forget(address);
            }
        }
    }

    /// <summary>Gets how many addresses have outlier state; for tests.</summary>
    internal int TrackedAddresses => Volatile.Read(ref _outliers)?.All.Count ?? 0;

    /// <summary>
    /// The snapshot requests see: <paramref name="configured"/> with its ejected endpoints unroutable, unless that would
    /// leave fewer than minHealthPercent of the service healthy (panic: every endpoint balances, as configured).
    /// </summary>
    private SubsetIndex Effective(SubsetIndex configured)
    {
        if (Volatile.Read(ref _outliers) is not { Ejected.IsEmpty: false } outliers || configured.Policy.OutlierDetection is not { } policy)
        {
            return configured;
        }

        var changes = new List<EndpointChange>();
        foreach (var address in outliers.Ejected)
        {
            if (configured.FindEndpoint(address) is { IsHealthy: true })
            {
                changes.Add(EndpointChange.SetHealth(address, isHealthy: false));
            }
        }

        if (changes.Count == 0)
        {
            return configured;
        }

        var total = configured.EndpointCount;
        var healthy = configured.Endpoints.Count(static e => e.IsHealthy) - changes.Count;
        return policy.MinHealthPercent > 0 && healthy * 100L < (long)policy.MinHealthPercent * total
            ? configured
            : configured.Apply(changes);
    }

    /// <summary>Writes the live state as one JSON object: the current snapshot as <see cref="SubsetIndex.WriteJson"/> does, with each endpoint's ejection.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="service">The service's name, written as <c>host</c>.</param>
    public void WriteJson(Utf8JsonWriter writer, string service) => SnapshotJson.WriteService(writer, service, this);
}
