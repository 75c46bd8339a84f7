using System.Text.Json;

namespace DynamicSubset.Routing;

/// <summary>
/// Writes a service's live snapshot as JSON, in the one shape the CLI (<c>dynsubset subsets -o json</c>) and the
/// debug view share: host, generation, policy summary, subsets with their endpoints, default subset, unassigned.
/// Reached through <see cref="SubsetIndex.WriteJson"/> and <see cref="SubsetResolver.WriteJson"/>.
/// </summary>
internal static class SnapshotJson
{
    /// <summary>Writes one service as a JSON object.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="host">The service's host.</param>
    /// <param name="index">The snapshot.</param>
    public static void WriteService(Utf8JsonWriter writer, string host, SubsetIndex index)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(index);
        WriteService(writer, host, index, ejected: null);
    }

    /// <summary>Writes one service's live state as a JSON object: its current snapshot, with each endpoint's ejection.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="host">The service's host.</param>
    /// <param name="resolver">The service's resolver.</param>
    public static void WriteService(Utf8JsonWriter writer, string host, SubsetResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(resolver);
        var ejections = resolver.Ejections;
        WriteService(writer, host, resolver.Current, ejections.Count == 0 ? null : ejections.ToDictionary(static e => e.Address));
    }

    private static void WriteService(Utf8JsonWriter writer, string host, SubsetIndex index, Dictionary<EndpointAddress, EndpointEjection>? ejected)
    {
        writer.WriteStartObject();
        writer.WriteString("host", host);
        writer.WriteNumber("generation", index.Generation);
        writer.WriteString("loadBalancer", index.Policy.LoadBalancing.ToMeshName());
        writer.WriteString("fallbackPolicy", index.Policy.DynamicSubset.FallbackPolicy.ToMeshName());
        writer.WriteStartArray("selectors");
        foreach (var selector in index.Policy.DynamicSubset.SubsetSelectors)
        {
            writer.WriteStartObject();
            writer.WriteStartArray("keys");
            foreach (var key in selector.Keys)
            {
                writer.WriteStringValue(key);
            }

            writer.WriteEndArray();
            writer.WriteString("fallbackPolicy", selector.FallbackPolicy?.ToMeshName());
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("headerMappings");
        foreach (var mapping in index.Policy.HeaderMappings)
        {
            writer.WriteStartObject();
            writer.WriteString("header", mapping.Header);
            writer.WriteString("key", mapping.Key);
            writer.WriteString("defaultValue", mapping.DefaultValue);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("subsets");
        foreach (var subset in index.Subsets)
        {
            WriteSubset(writer, index, subset, ejected);
        }

        writer.WriteEndArray();
        if (index.DefaultSubset is { } defaultSubset)
        {
            writer.WritePropertyName("defaultSubset");
            WriteSubset(writer, index, defaultSubset, ejected);
        }
        else
        {
            writer.WriteNull("defaultSubset");
        }

        writer.WritePropertyName("unassigned");
        WriteEndpoints(writer, index, index.UnassignedEndpoints, ejected);
        writer.WriteEndObject();
    }

    private static void WriteSubset(Utf8JsonWriter writer, SubsetIndex index, Subset subset, Dictionary<EndpointAddress, EndpointEjection>? ejected)
    {
        writer.WriteStartObject();
        writer.WriteString("name", subset.ToString());
        writer.WriteStartObject("pairs");
        foreach (var (key, value) in subset.Pairs)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
        writer.WritePropertyName("endpoints");
        WriteEndpoints(writer, index, subset.Endpoints, ejected);
        writer.WriteEndObject();
    }

    private static void WriteEndpoints(Utf8JsonWriter writer, SubsetIndex index, IEnumerable<Endpoint> endpoints, Dictionary<EndpointAddress, EndpointEjection>? ejected)
    {
        writer.WriteStartArray();
        foreach (var endpoint in endpoints)
        {
            writer.WriteStartObject();
            writer.WriteString("address", endpoint.Authority);
            writer.WriteString("name", endpoint.Name);
            writer.WriteBoolean("routable", endpoint.IsHealthy);
            writer.WriteNumber("weight", endpoint.Weight);
            writer.WriteNumber("inFlight", index.InFlight(endpoint.AddressKey));
            if (ejected is not null && ejected.TryGetValue(endpoint.AddressKey, out var ejection))
            {
                writer.WriteStartObject("ejected");
                writer.WriteString("until", ejection.Until);
                writer.WriteNumber("times", ejection.Times);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
