using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// The catalog of routed services: the one seam between where routing comes from (mesh YAML files, options, a static
/// list, a pushing endpoint source, the cluster) and what uses it (the HttpClient handler, the gateway, the YARP step,
/// the admin view, the CLI). Each entry point takes a catalog and nothing else.
/// </summary>
/// <remarks>
/// <para>
/// A source builds every service of its next state to the side, then publishes them in one swap of
/// <see cref="Current"/> and raises <see cref="Changed"/> after it. A source that fails keeps the last good
/// snapshot serving and records why in <see cref="Status"/>; nothing it throws reaches a request.
/// </para>
/// <para>
/// Readers take <see cref="Current"/> once per request and never lock. A <see cref="RoutedService"/>'s resolver may
/// stay the same object across swaps (its own snapshot changes beneath it), so a reader that holds it keeps routing
/// with the newest endpoints.
/// </para>
/// </remarks>
public abstract class RoutingCatalog : IDisposable
{
    private readonly Lock _publishLock = new();
    private readonly TimeProvider _timeProvider;
    private RoutingCatalogSnapshot _current;
    private RoutingCatalogStatus _status;

    /// <summary>Initializes a new instance of the <see cref="RoutingCatalog"/> class, empty and not yet synced.</summary>
    /// <param name="description">What the catalog reads, for operators: <c>files a.yaml, b.yaml</c>, <c>options 'helloworld'</c>.</param>
    /// <param name="timeProvider">The clock for load times; <see langword="null"/> for the system clock.</param>
    protected RoutingCatalog(string description, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        Description = description;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _current = RoutingCatalogSnapshot.Empty;
        _status = new RoutingCatalogStatus(RoutingCatalogSyncState.Syncing, LastError: null);
    }

    /// <summary>Raised after <see cref="Current"/> or <see cref="Status"/> changes, on the thread that changed it.</summary>
    public event EventHandler<RoutingCatalogChangedEventArgs>? Changed;

    /// <summary>Gets what the catalog reads, for operators.</summary>
    public string Description { get; }

    /// <summary>Gets the services serving now.</summary>
    public RoutingCatalogSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Gets whether the catalog has synced with its source, and the last update it rejected.</summary>
    public RoutingCatalogStatus Status => Volatile.Read(ref _status);

    /// <summary>Gets facts about the source for operators, such as the last resourceVersion seen per watched kind.</summary>
    /// <value>Empty unless the source has some to tell.</value>
    public virtual IReadOnlyDictionary<string, string> SourceDetails => FrozenDictionary<string, string>.Empty;

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Publishes the next set of services in one swap, marks the catalog synced, clears the last error, then signals.</summary>
    /// <param name="services">Every service, already built: nothing here can fail halfway.</param>
    /// <param name="defaultService">The service for a request whose host names none; <see langword="null"/> for none.</param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="ArgumentException">Two services claim the same name.</exception>
    protected RoutingCatalogSnapshot Publish(IEnumerable<RoutedService> services, RoutedService? defaultService = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        RoutingCatalogSnapshot previous, next;
        lock (_publishLock)
        {
            previous = _current;
            next = new RoutingCatalogSnapshot(previous.Version + 1, _timeProvider.GetUtcNow(), [.. services], defaultService);
            Volatile.Write(ref _current, next);
            Volatile.Write(ref _status, new RoutingCatalogStatus(RoutingCatalogSyncState.Synced, LastError: null));
        }

        // Signal after the swap and outside the lock, so a handler may read (or publish) again.
        Changed?.Invoke(this, new RoutingCatalogChangedEventArgs(previous, next, RoutingCatalogChange.Published));
        return next;
    }

    /// <summary>Records a rejected update: the current snapshot keeps serving, and <see cref="Status"/> says why.</summary>
    /// <param name="summary">One line: what was rejected, without the rejected content.</param>
    /// <param name="details">Where: one line per problem, such as <c>file:line:column: code field.path</c>.</param>
    protected void ReportRejected(string summary, IReadOnlyList<string>? details = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(summary);
        RoutingCatalogSnapshot current;
        lock (_publishLock)
        {
            current = _current;
            var status = _status;
            Volatile.Write(ref _status, status with { LastError = new RoutingCatalogError(_timeProvider.GetUtcNow(), summary, details ?? []) });
        }

        Changed?.Invoke(this, new RoutingCatalogChangedEventArgs(current, current, RoutingCatalogChange.Rejected));
    }

    /// <summary>Records whether the source is reachable; the current snapshot keeps serving either way.</summary>
    /// <param name="state">The new state.</param>
    protected void SetSyncState(RoutingCatalogSyncState state)
    {
        RoutingCatalogSnapshot current;
        lock (_publishLock)
        {
            current = _current;
            if (_status.SyncState == state)
            {
                return;
            }

            Volatile.Write(ref _status, _status with { SyncState = state });
        }

        Changed?.Invoke(this, new RoutingCatalogChangedEventArgs(current, current, RoutingCatalogChange.SyncState));
    }

    /// <summary>Stops watching the source.</summary>
    /// <param name="disposing">Whether called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>Whether a catalog's routing is in sync with its source.</summary>
public enum RoutingCatalogSyncState
{
    /// <summary>The first state has not been read yet; nothing is published.</summary>
    Syncing = 0,

    /// <summary>The catalog serves its source's latest accepted state.</summary>
    Synced = 1,

    /// <summary>The source cannot be reached; the catalog serves the last state it had.</summary>
    Stale = 2,
}

/// <summary>A catalog's sync state and its last rejected update.</summary>
/// <param name="SyncState">Whether the catalog is in sync with its source.</param>
/// <param name="LastError">The last rejected update since the last publish, or <see langword="null"/>.</param>
public sealed record RoutingCatalogStatus(RoutingCatalogSyncState SyncState, RoutingCatalogError? LastError);

/// <summary>A rejected update: when, what, and where. It quotes no configuration content.</summary>
/// <param name="At">When it was rejected.</param>
/// <param name="Summary">One line, such as <c>2 errors in helloworld.yaml; version 3 keeps serving</c>.</param>
/// <param name="Details">One line per problem, with its position.</param>
public sealed record RoutingCatalogError(DateTimeOffset At, string Summary, IReadOnlyList<string> Details);

/// <summary>What changed in a <see cref="RoutingCatalog"/>.</summary>
public enum RoutingCatalogChange
{
    /// <summary>A new snapshot was published.</summary>
    Published = 0,

    /// <summary>An update was rejected; the snapshot is unchanged, and the status holds the error.</summary>
    Rejected = 1,

    /// <summary>The sync state changed; the snapshot is unchanged.</summary>
    SyncState = 2,
}

/// <summary>Describes a change of a <see cref="RoutingCatalog"/>.</summary>
/// <param name="previous">The snapshot before.</param>
/// <param name="current">The snapshot now; the same as <paramref name="previous"/> unless one was published.</param>
/// <param name="change">What changed.</param>
public sealed class RoutingCatalogChangedEventArgs(RoutingCatalogSnapshot previous, RoutingCatalogSnapshot current, RoutingCatalogChange change) : EventArgs
{
    /// <summary>Gets the snapshot before the change.</summary>
    public RoutingCatalogSnapshot Previous { get; } = previous;

    /// <summary>Gets the snapshot now.</summary>
    public RoutingCatalogSnapshot Current { get; } = current;

    /// <summary>Gets what changed.</summary>
    public RoutingCatalogChange Change { get; } = change;
}

/// <summary>The services of a catalog at one moment, with a lookup by any name a request may use.</summary>
public sealed class RoutingCatalogSnapshot
{
    private readonly FrozenDictionary<string, RoutedService> _byHost;

    internal RoutingCatalogSnapshot(long version, DateTimeOffset loadedAt, ImmutableArray<RoutedService> services, RoutedService? defaultService)
    {
        Version = version;
        LoadedAt = loadedAt;
        Services = services;
        Default = defaultService;
        var byHost = new Dictionary<string, RoutedService>(StringComparer.OrdinalIgnoreCase);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var service in services)
        {
            if (!names.Add(service.Name))
            {
                throw new ArgumentException($"two services are named '{service.Name}'", nameof(services));
            }
        }

        // Full names first, so that a short name never shadows another service's own name.
        foreach (var service in services)
        {
            foreach (var host in service.Hosts)
            {
                byHost.TryAdd(host, service);
            }
        }

        foreach (var service in services)
        {
            foreach (var host in service.Hosts)
            {
                foreach (var name in ShortNames(host))
                {
                    byHost.TryAdd(name, service);
                }
            }
        }

        _byHost = byHost.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Gets the snapshot of a catalog that has published nothing yet.</summary>
    public static RoutingCatalogSnapshot Empty { get; } = new(0, DateTimeOffset.MinValue, [], null);

    /// <summary>Gets the version: 0 before the first publish, then one more per publish.</summary>
    public long Version { get; }

    /// <summary>Gets when this snapshot was published.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>Gets every routed service.</summary>
    public ImmutableArray<RoutedService> Services { get; }

    /// <summary>Gets the service for requests whose host names no service, or <see langword="null"/> when such requests are not routed.</summary>
    public RoutedService? Default { get; }

    /// <summary>
    /// Finds the service a request's host names (without its port): a service's own name, an alias (a VirtualService
    /// host), or a short name as a pod's DNS search path resolves it (<c>helloworld</c>, <c>helloworld.default</c>,
    /// <c>helloworld.default.svc</c>); otherwise <see cref="Default"/>.
    /// </summary>
    /// <param name="host">The host, for example <c>helloworld</c>.</param>
    /// <param name="service">The service.</param>
    /// <returns><see langword="true"/> if a service was found.</returns>
    public bool TryFind(string host, [NotNullWhen(true)] out RoutedService? service)
    {
        if (TryFindByName(host, out service))
        {
            return true;
        }

        service = Default;
        return service is not null;
    }

    /// <summary>Finds the service a host names, as <see cref="TryFind"/> does, but never falls back to <see cref="Default"/>.</summary>
    /// <param name="host">The host, for example <c>helloworld</c>.</param>
    /// <param name="service">The service.</param>
    /// <returns><see langword="true"/> if one of the services has that name.</returns>
    public bool TryFindByName(string host, [NotNullWhen(true)] out RoutedService? service)
    {
        ArgumentNullException.ThrowIfNull(host);
        return _byHost.TryGetValue(host.EndsWith('.') ? host.TrimEnd('.') : host, out service);
    }

    /// <summary>The names a pod's DNS search path resolves to <paramref name="host"/>.</summary>
    private static IEnumerable<string> ShortNames(string host)
    {
        const string suffix = ".svc.cluster.local";
        if (host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && host[..^suffix.Length].Split('.') is [var name, var ns])
        {
            yield return name;
            yield return $"{name}.{ns}";
            yield return $"{name}.{ns}.svc";
        }
    }
}

/// <summary>One service of a catalog: its name, the hosts that name it, and its live resolver.</summary>
public sealed class RoutedService
{
    /// <summary>Initializes a new instance of the <see cref="RoutedService"/> class.</summary>
    /// <param name="name">The service's name, usually its fully qualified host (<c>helloworld.default.svc.cluster.local</c>).</param>
    /// <param name="resolver">The service's resolver.</param>
    /// <param name="aliases">Other hosts that name it, such as a VirtualService's hosts; <see langword="null"/> for none.</param>
    /// <param name="origin">Where it was defined, for operators: a file, <c>namespace/name</c>, an options name.</param>
    public RoutedService(string name, SubsetResolver resolver, IEnumerable<string>? aliases = null, string? origin = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(resolver);
        Name = name.TrimEnd('.');
        Resolver = resolver;
        Hosts = [Name, .. (aliases ?? []).Select(static a => a.TrimEnd('.')).Where(a => a.Length > 0 && !string.Equals(a, name, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.OrdinalIgnoreCase)];
        Origin = origin;
    }

    /// <summary>Gets the service's name.</summary>
    public string Name { get; }

    /// <summary>Gets every host that names the service: its name first, then its aliases.</summary>
    public ImmutableArray<string> Hosts { get; }

    /// <summary>Gets the service's resolver.</summary>
    public SubsetResolver Resolver { get; }

    /// <summary>Gets where the service was defined, for operators, or <see langword="null"/>.</summary>
    public string? Origin { get; }

    /// <summary>
    /// Gets or initializes the VirtualService routes of requests that name this service (<c>http[]</c>, in order). The
    /// first route that matches picks a destination; a request that matches none gets <c>no route</c>.
    /// </summary>
    /// <value>Defaults to empty: every request is resolved by <see cref="Resolver"/>.</value>
    public ImmutableArray<HttpRouteRule> Routes
    {
        get => field.IsDefault ? [] : field;
        init
        {
            for (var i = 0; i < value.Length; i++)
            {
                if (value[i] is null)
                {
                    throw new RoutingValidationException($"http[{i}]", "route must not be null", nameof(Routes));
                }
            }

            field = value;
            Table = value.IsDefaultOrEmpty ? null : RouteTable.Create(value.AsSpan());
        }
    }

    /// <summary>Gets the routes compiled for the request path, or <see langword="null"/> without routes.</summary>
    internal RouteTable? Table { get; private init; }

    /// <summary>
    /// Routes a request: the first matching route picks a destination by weight, then the destination's pool resolves
    /// it (dynamic subsets, consistent hashing). Without <see cref="Routes"/>, this service's own resolver does. Lock-free;
    /// allocates nothing unless a regex needs it or an affinity cookie is generated.
    /// </summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers.</param>
    /// <returns>The decision.</returns>
    public RouteDecision Route<THeaders>(in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource, allows ref struct =>
        HttpRouting.Route(this, request, headers, headers, random: null);

    /// <summary>
    /// Routes a request whose dynamic subset keys come from other headers than its route matches and hash keys: a
    /// gateway matches routes on what the caller sent, but reads subset keys only from a trusted caller.
    /// </summary>
    /// <typeparam name="THeaders">The header source for matches and hash keys.</typeparam>
    /// <typeparam name="TCriteria">The header source for dynamic subset keys.</typeparam>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers, for route matches and hash keys.</param>
    /// <param name="criteriaHeaders">The headers dynamic subset keys are read from.</param>
    /// <returns>The decision.</returns>
    public RouteDecision Route<THeaders, TCriteria>(in RouteRequest request, THeaders headers, TCriteria criteriaHeaders)
        where THeaders : IHeaderSource, allows ref struct
        where TCriteria : IHeaderSource, allows ref struct =>
        HttpRouting.Route(this, request, headers, criteriaHeaders, random: null);

    /// <summary>Explains which route a request matches and why each earlier one did not (the first failing condition).</summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="headers">The request's headers.</param>
    /// <returns>One check per route tried, in order, up to the one that matched.</returns>
    public ImmutableArray<RouteCheck> ExplainRoutes<THeaders>(in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource, allows ref struct =>
        HttpRouting.Explain(this, request, headers);

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// A catalog whose services are given in code: a static list, or one that the application updates itself (as
/// YARP's in-memory configuration provider).
/// </summary>
public sealed class InMemoryRoutingCatalog : RoutingCatalog
{
    /// <summary>Initializes a new instance of the <see cref="InMemoryRoutingCatalog"/> class with its first services.</summary>
    /// <param name="services">The services.</param>
    /// <param name="defaultService">The service for requests whose host names none; <see langword="null"/> for none.</param>
    /// <param name="description">What the catalog holds, for operators.</param>
    public InMemoryRoutingCatalog(IEnumerable<RoutedService> services, RoutedService? defaultService = null, string description = "in memory")
        : base(description)
    {
        ArgumentNullException.ThrowIfNull(services);
        Publish(services, defaultService);
    }

    /// <summary>Creates a catalog of one service that takes every request, whatever its host.</summary>
    /// <param name="name">The service's name.</param>
    /// <param name="policy">Its routing policy.</param>
    /// <param name="endpoints">Its endpoints.</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="RoutingValidationException">The endpoints are invalid.</exception>
    public static InMemoryRoutingCatalog ForService(string name, RoutingPolicy policy, IEnumerable<Endpoint> endpoints)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(endpoints);
        var service = new RoutedService(name, new SubsetResolver(SubsetIndex.Build(endpoints, policy)));
        return new InMemoryRoutingCatalog([service], service, $"static list '{name}'");
    }

    /// <summary>Replaces the services in one swap.</summary>
    /// <param name="services">The services.</param>
    /// <param name="defaultService">The service for requests whose host names none; <see langword="null"/> for none.</param>
    /// <returns>The published snapshot.</returns>
    public RoutingCatalogSnapshot Update(IEnumerable<RoutedService> services, RoutedService? defaultService = null) => Publish(services, defaultService);
}
