using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Every routing catalog of an application, in one place (as YARP's configuration manager is over its providers):
/// it answers "which catalog" for every entry point (the one registered under a name, else the default), and hands the
/// same list to telemetry and the admin view, so each sees every catalog alike.
/// </summary>
/// <remarks>
/// Catalogs come from the service provider (the default <see cref="RoutingCatalog"/> and keyed ones) and from entry
/// points that make their own at run time (the YARP step's catalog of cluster destinations), through <see cref="Add"/>.
/// Each is registered with telemetry the first time the registry sees it.
/// </remarks>
public sealed class RoutingCatalogRegistry
{
    private readonly IServiceProvider _services;
    private readonly RoutingTelemetry? _telemetry;
    private readonly Lock _lock = new();
    private RoutingCatalog[]? _all;
    private long _version;
    private HeaderCache? _mappedHeaders;

    /// <summary>Initializes a new instance of the <see cref="RoutingCatalogRegistry"/> class over a service provider's catalogs.</summary>
    /// <param name="services">The service provider whose catalogs it holds (its telemetry, if registered, observes them).</param>
    /// <remarks>An application has one, registered by <c>AddDynamicSubsetRoutingPipeline()</c>; make one only for a view over another app's catalogs.</remarks>
    public RoutingCatalogRegistry(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
        _telemetry = services.GetService<RoutingTelemetry>();
    }

    /// <summary>Gets every catalog, the default first; those from the service provider are created on first use.</summary>
    public IReadOnlyList<RoutingCatalog> All
    {
        get
        {
            if (Volatile.Read(ref _all) is { } all)
            {
                return all;
            }

            RoutingCatalog[] found = [.. _services.GetServices<RoutingCatalog>().Concat(_services.GetKeyedServices<RoutingCatalog>(KeyedService.AnyKey)).Distinct()];
            lock (_lock)
            {
                if (_all is null)
                {
                    foreach (var catalog in found)
                    {
                        Watch(catalog);
                    }

                    Volatile.Write(ref _all, found);
                }

                return _all;
            }
        }
    }

    /// <summary>
    /// Finds the catalog of a client, a cluster or a gateway: the one registered under <paramref name="name"/>, else the
    /// default one.
    /// </summary>
    /// <param name="name">The name a catalog may be registered under (an HttpClient's name, a YARP cluster id); <see langword="null"/> for the default.</param>
    /// <param name="catalog">The catalog.</param>
    /// <returns><see langword="true"/> if there is one.</returns>
    public bool TryFind(string? name, [NotNullWhen(true)] out RoutingCatalog? catalog)
    {
        catalog = (name is null ? null : _services.GetKeyedService<RoutingCatalog>(name)) ?? _services.GetService<RoutingCatalog>();
        if (catalog is null)
        {
            return false;
        }

        if (!Contains(catalog))
        {
            Add(catalog);
        }

        return true;
    }

    /// <summary>Finds a catalog as <see cref="TryFind"/> does, or throws saying how to register one.</summary>
    /// <param name="name">The name a catalog may be registered under; <see langword="null"/> for the default.</param>
    /// <param name="user">Who needs it, for the message: <c>HttpClient 'helloworld'</c>, <c>the gateway</c>.</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="InvalidOperationException">No catalog is registered under the name, and there is no default.</exception>
    public RoutingCatalog GetRequired(string? name, string user)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        return TryFind(name, out var catalog) ? catalog : throw new InvalidOperationException(
            $"{user} uses dynamic subset routing, but no routing catalog is registered. Register one with " +
            "services.AddDynamicSubsetCatalogFromFiles(...) or AddDynamicSubsetCatalogFromOptions(name, ...) (DynamicSubset.Routing.Configuration), " +
            "AddDynamicSubsetCatalogFromKubernetes(...) (DynamicSubset.Routing.Kubernetes), or add a RoutingCatalog singleton.");
    }

    /// <summary>Adds a catalog made at run time, so that telemetry and the admin view see it; adding one twice does nothing.</summary>
    /// <param name="catalog">The catalog.</param>
    public void Add(RoutingCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _ = All;
        lock (_lock)
        {
            var all = _all!;
            if (all.Contains(catalog))
            {
                return;
            }

            Watch(catalog);
            Volatile.Write(ref _all, [.. all, catalog]);
        }

        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Gets the request headers the current policies map to keys (lower-case, distinct), for header propagation. Computed
    /// once and again only after a catalog changes, since the propagation middleware reads it on every request.
    /// </summary>
    public IReadOnlyList<string> MappedHeaders
    {
        get
        {
            // A version, not a null, marks the cache stale: a reader that computed from the old state and stores after
            // an invalidation stores a list tagged with the old version, which the next read does not take.
            var version = Interlocked.Read(ref _version);
            var cache = Volatile.Read(ref _mappedHeaders);
            if (cache is not null && cache.Version == version)
            {
                return cache.Headers;
            }

            string[] headers = [.. All.SelectMany(static c => c.Current.Services)
                .SelectMany(static s => s.Resolver.Current.Policy.HeaderMappings)
                .Select(static m => m.Header).Distinct(StringComparer.Ordinal)];
            OnComputed?.Invoke();
            Interlocked.CompareExchange(ref _mappedHeaders, new HeaderCache(version, headers), cache);
            return headers;
        }
    }

    /// <summary>Gets or sets a test seam: runs between computing a list and storing it, where a change may land.</summary>
    internal Action? OnComputed { get; set; }

    private bool Contains(RoutingCatalog catalog)
    {
        _ = All;
        return Array.IndexOf(Volatile.Read(ref _all)!, catalog) >= 0;
    }

    private void Watch(RoutingCatalog catalog)
    {
        _telemetry?.Register(catalog);

        // The catalog swaps, then signals: a request that races the change reads the old list once.
        catalog.Changed += (_, _) => Interlocked.Increment(ref _version);
    }

    private sealed record HeaderCache(long Version, string[] Headers);
}
