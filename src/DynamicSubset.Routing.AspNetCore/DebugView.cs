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
                WriteService(w, service.Host, resolver.Current);
            }
        }

        foreach (var (service, resolver) in routes?.Services ?? [])
        {
            if (seen.Add(resolver))
            {
                WriteService(w, service, resolver.Current);
            }
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteService(Utf8JsonWriter w, string host, SubsetIndex index)
    {
        w.WriteStartObject();
        w.WriteString("host", host);
        w.WriteNumber("generation", index.Generation);
        w.WriteString("loadBalancer", index.Policy.LoadBalancing.ToMeshName());
        w.WriteString("fallbackPolicy", index.Policy.DynamicSubset.FallbackPolicy.ToMeshName());
        w.WriteStartArray("subsets");
        foreach (var subset in index.Subsets)
        {
            WriteSet(w, subset);
        }

        w.WriteEndArray();
        if (index.DefaultSubset is { } d)
        {
            w.WritePropertyName("defaultSubset");
            WriteSet(w, d);
        }
        else
        {
            w.WriteNull("defaultSubset");
        }

        w.WritePropertyName("unassigned");
        WriteEndpoints(w, index.UnassignedEndpoints);
        w.WriteEndObject();
    }

    private static void WriteSet(Utf8JsonWriter w, Subset subset)
    {
        w.WriteStartObject();
        w.WriteString("name", subset.ToString());
        w.WritePropertyName("endpoints");
        WriteEndpoints(w, subset.Endpoints);
        w.WriteEndObject();
    }

    private static void WriteEndpoints(Utf8JsonWriter w, IEnumerable<Endpoint> endpoints)
    {
        w.WriteStartArray();
        foreach (var e in endpoints)
        {
            w.WriteStartObject();
            w.WriteString("address", e.Authority);
            w.WriteString("name", e.Name);
            w.WriteBoolean("routable", e.IsHealthy);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
