using DynamicSubset.Routing.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// Every registered routing catalog's sync state as health: unhealthy while one has never synced (nothing to route
/// with yet), degraded while one's source is unreachable (it serves its last state), healthy when all are in sync.
/// </summary>
internal sealed class RoutingCatalogHealthCheck(RoutingCatalogRegistry catalogs) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var all = catalogs.All;
        if (all.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("no routing catalog is registered"));
        }

        var data = all.ToDictionary(static c => c.Description, static c => (object)c.Status.SyncState.ToString().ToLowerInvariant(), StringComparer.Ordinal);
        if (all.FirstOrDefault(static c => c.Status.SyncState == RoutingCatalogSyncState.Syncing) is { } syncing)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"{syncing.Description}: not synced yet", data: data));
        }

        if (all.FirstOrDefault(static c => c.Status.SyncState == RoutingCatalogSyncState.Stale) is { } stale)
        {
            return Task.FromResult(HealthCheckResult.Degraded($"{stale.Description}: source unreachable, serving version {stale.Current.Version}", data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy($"{all.Count} routing catalog(s) in sync", data));
    }
}
