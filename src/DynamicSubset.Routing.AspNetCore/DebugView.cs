using System.Text.Json;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// Writes every routing catalog of the application as JSON: its source, version, load time, sync state and last
/// rejected edit, then each service's snapshot. A rejected edit is shown by position and code only: its messages may
/// quote the rejected content, which belongs in the logs, not on a page.
/// </summary>
internal static class DebugView
{
    public static async Task WriteAsync(HttpContext context)
    {
        var catalogs = (context.RequestServices.GetService<RoutingCatalogRegistry>() ?? new RoutingCatalogRegistry(context.RequestServices)).All;
        context.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartArray("catalogs");
        foreach (var catalog in catalogs)
        {
            WriteCatalog(w, catalog);
        }

        w.WriteEndArray();
        w.WriteStartArray("services");
        var seen = new HashSet<SubsetResolver>();
        foreach (var service in catalogs.SelectMany(static c => c.Current.Services))
        {
            if (seen.Add(service.Resolver))
            {
                service.Resolver.WriteJson(w, service.Name);
            }
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteCatalog(Utf8JsonWriter w, RoutingCatalog catalog)
    {
        var current = catalog.Current;
        var status = catalog.Status;
        w.WriteStartObject();
        w.WriteString("source", catalog.Description);
        w.WriteNumber("version", current.Version);
        w.WriteString("loadedAt", current.LoadedAt);
        w.WriteString("syncState", status.SyncState switch
        {
            RoutingCatalogSyncState.Synced => "synced",
            RoutingCatalogSyncState.Stale => "stale",
            _ => "syncing",
        });
        w.WriteStartArray("services");
        foreach (var service in current.Services)
        {
            w.WriteStringValue(service.Name);
        }

        w.WriteEndArray();
        w.WriteStartObject("details");
        foreach (var (key, value) in catalog.SourceDetails)
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
        if (status.LastError is { } error)
        {
            w.WriteStartObject("lastError");
            w.WriteString("at", error.At);
            w.WriteString("summary", error.Summary);
            w.WriteStartArray("where");
            foreach (var detail in error.Details)
            {
                w.WriteStringValue(detail);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("lastError");
        }

        w.WriteEndObject();
    }
}
