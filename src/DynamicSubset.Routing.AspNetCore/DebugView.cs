using System.Text.Json;
using DynamicSubset.Routing.Configuration;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>Writes the live snapshot as JSON: configuration version and load time, last reload error, and every service's subsets.</summary>
internal static class DebugView
{
    public static async Task WriteAsync(HttpContext context)
    {
        var watcher = context.RequestServices.GetService<MeshConfigurationWatcher>();
        var routes = context.RequestServices.GetService<DynamicSubsetRoutes>();
        context.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        if (watcher is not null)
        {
            w.WriteStartObject("configuration");
            w.WriteNumber("version", watcher.Version);
            w.WriteString("loadedAt", watcher.LoadedAt);
            w.WriteStartArray("files");
            foreach (var path in watcher.Paths)
            {
                w.WriteStringValue(path);
            }

            w.WriteEndArray();
            if (watcher.LastError is { } error)
            {
                w.WriteStartObject("lastError");
                w.WriteString("at", error.At);
                w.WriteStartArray("errors");
                foreach (var d in error.Errors)
                {
                    w.WriteStringValue(d.ToString());
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

        w.WriteStartArray("services");
        var seen = new HashSet<SubsetResolver>();
        foreach (var service in watcher?.Current.Services ?? [])
        {
            if (watcher!.TryGetService(service.Host, out _, out var resolver) && seen.Add(resolver))
            {
                SnapshotJson.WriteService(w, service.Host, resolver.Current);
            }
        }

        foreach (var (service, resolver) in routes?.Services ?? [])
        {
            if (seen.Add(resolver))
            {
                SnapshotJson.WriteService(w, service, resolver.Current);
            }
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
