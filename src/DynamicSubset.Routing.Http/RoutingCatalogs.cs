using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// Every routing catalog of a service provider: the default one and the named ones. For views over all of them (the
/// admin view) and for the header propagation's default header list.
/// </summary>
internal sealed class RoutingCatalogs(IServiceProvider services)
{
    private RoutingCatalog[]? _all;
    private long _version;
    private HeaderCache? _mappedHeaders;

    /// <summary>Gets every catalog, the default first; they are created on first use.</summary>
    public IReadOnlyList<RoutingCatalog> All
    {
        get
        {
            if (Volatile.Read(ref _all) is { } all)
            {
                return all;
            }

            all = Enumerate(services);
            foreach (var catalog in all)
            {
                // The catalog swaps, then signals: a request that races the change reads the old list once.
                catalog.Changed += (_, _) => Interlocked.Increment(ref _version);
            }

            return Interlocked.CompareExchange(ref _all, all, null) ?? all;
        }
    }

    /// <summary>Every catalog a service provider holds, the default ones first, creating them if needed.</summary>
    public static RoutingCatalog[] Enumerate(IServiceProvider services) =>
        [.. services.GetServices<RoutingCatalog>().Concat(services.GetKeyedServices<RoutingCatalog>(KeyedService.AnyKey)).Distinct()];

    /// <summary>
    /// Gets the request headers the current policies map to keys (lower-case, distinct). Computed once and again only
    /// after a catalog changes, since the propagation middleware reads it on every request.
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

    private sealed record HeaderCache(long Version, string[] Headers);
}
