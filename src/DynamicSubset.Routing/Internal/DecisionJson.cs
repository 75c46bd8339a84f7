using System.Text.Json;

namespace DynamicSubset.Routing.Internal;

/// <summary>
/// The one writer of a decision's JSON fields, so that every view agrees on them: the batch contract's lines
/// (<see cref="RouteDecision.WriteJson"/>), explanations (<see cref="Explanation.WriteJson"/>), the admin page.
/// </summary>
internal static class DecisionJson
{
    /// <summary>Writes <c>"subset"</c>: the dynamic subset's key values as an object (<c>{"stage": "dev"}</c>), or <see langword="null"/>.</summary>
    public static void WriteSubset(Utf8JsonWriter writer, Subset? subset)
    {
        if (subset is null)
        {
            writer.WriteNull("subset");
            return;
        }

        writer.WriteStartObject("subset");
        foreach (var (key, value) in subset.Pairs)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes <c>"fallback"</c>: <c>{"policy", "scope"}</c> of the fallback taken, or <see langword="null"/>.</summary>
    public static void WriteFallback(Utf8JsonWriter writer, in Resolution resolution)
    {
        if (resolution.FallbackPolicy is not { } policy)
        {
            writer.WriteNull("fallback");
            return;
        }

        writer.WriteStartObject("fallback");
        writer.WriteString("policy", policy.ToMeshName());
        writer.WriteString("scope", resolution.FallbackScope!.Value.ToMeshName());
        writer.WriteEndObject();
    }

    /// <summary>Writes <c>"route"</c> and <c>"destination": {"host", "subset"}</c>.</summary>
    public static void WriteRoute(Utf8JsonWriter writer, string? route, RouteDestination? destination, string service)
    {
        writer.WriteString("route", route);
        writer.WriteStartObject("destination");
        writer.WriteString("host", destination?.Host ?? service);
        writer.WriteString("subset", destination?.Subset);
        writer.WriteEndObject();
    }
}
