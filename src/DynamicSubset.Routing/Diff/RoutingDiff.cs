using System.Collections.Immutable;
using System.Text.Json;

namespace DynamicSubset.Routing;

/// <summary>
/// What an edit changes, before it is applied: the topology of every service whose configuration or endpoints differ
/// between two catalog snapshots (<see cref="Compare"/>), and, replayed through <see cref="RequestReplay"/>, which
/// requests go somewhere else. <c>dynsubset diff</c> prints it.
/// </summary>
public sealed class RoutingDiff
{
    private RoutingDiff(ImmutableArray<ServiceDiff> services) => Services = services;

    /// <summary>Gets every service of either side, by name.</summary>
    public ImmutableArray<ServiceDiff> Services { get; }

    /// <summary>Gets a value indicating whether any service's topology or policy changes.</summary>
    public bool HasChanges => Services.Any(static s => s.HasChanges);

    /// <summary>Compares two snapshots service by service.</summary>
    /// <param name="before">The catalog as it is.</param>
    /// <param name="after">The catalog with the edit applied.</param>
    /// <returns>The differences.</returns>
    public static RoutingDiff Compare(RoutingCatalogSnapshot before, RoutingCatalogSnapshot after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        // A route whose header mappings differ from the service's gets a pool of its own over the same endpoints: it is
        // compared as part of its route (the routes' description), not as a service that comes and goes with the order.
        var derived = before.Services.Concat(after.Services)
            .SelectMany(static s => s.Routes.SelectMany(static r => r.Destinations))
            .Where(static d => d.Service.Name != (d.Subset is null ? d.Host : $"{d.Host}/{d.Subset}"))
            .Select(static d => d.Service.Name)
            .ToHashSet(StringComparer.Ordinal);
        var names = before.Services.Select(static s => s.Name).Union(after.Services.Select(static s => s.Name), StringComparer.Ordinal)
            .Where(n => !derived.Contains(n))
            .Order(StringComparer.Ordinal);
        var services = ImmutableArray.CreateBuilder<ServiceDiff>();
        foreach (var name in names)
        {
            before.TryFindByName(name, out var old);
            after.TryFindByName(name, out var now);
            services.Add(CompareService(name, old, now));
        }

        return new RoutingDiff(services.ToImmutable());
    }

    /// <summary>
    /// Writes the report as one JSON object: <c>{"services": [{"host", "before", "after", "subsets": {"added",
    /// "removed", "changed"}, "routable": {"added", "removed"}, "policy": [...], "requests": {"total", "moved",
    /// "transitions": [{"from", "to", "count", "examples"}]}}]}</c>, a service only when something changes for it or
    /// requests were replayed to it.
    /// </summary>
    /// <param name="writer">The writer.</param>
    /// <param name="replay">The replayed requests, or <see langword="null"/>.</param>
    public void WriteJson(Utf8JsonWriter writer, RequestReplay? replay = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var summaries = replay?.Summaries().ToDictionary(static s => s.Host, StringComparer.Ordinal) ?? [];
        writer.WriteStartObject();
        writer.WriteStartArray("services");
        foreach (var service in Services)
        {
            summaries.TryGetValue(service.Host, out var requests);
            if (!service.HasChanges && requests is null)
            {
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString("host", service.Host);
            writer.WriteBoolean("before", service.InBefore);
            writer.WriteBoolean("after", service.InAfter);
            writer.WriteStartObject("subsets");
            WriteSubsets(writer, "added", service.SubsetsAdded, static c => c.EndpointsAdded, null);
            WriteSubsets(writer, "removed", service.SubsetsRemoved, static c => c.EndpointsRemoved, null);
            WriteSubsets(writer, "changed", service.SubsetsChanged, static c => c.EndpointsAdded, static c => c.EndpointsRemoved);
            writer.WriteEndObject();
            writer.WriteStartObject("routable");
            WriteStrings(writer, "added", service.BecomeRoutable);
            WriteStrings(writer, "removed", service.StopBeingRoutable);
            writer.WriteEndObject();
            WriteStrings(writer, "policy", service.PolicyChanges);
            if (requests is not null)
            {
                writer.WriteStartObject("requests");
                writer.WriteNumber("total", requests.Total);
                writer.WriteNumber("moved", requests.Moved);
                writer.WriteStartArray("transitions");
                foreach (var t in requests.Transitions)
                {
                    writer.WriteStartObject();
                    writer.WriteString("from", t.From);
                    writer.WriteString("to", t.To);
                    writer.WriteNumber("count", t.Count);
                    WriteStrings(writer, "examples", t.Examples);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteSubsets(Utf8JsonWriter writer, string name, ImmutableArray<SubsetChange> changes, Func<SubsetChange, ImmutableArray<string>> endpoints, Func<SubsetChange, ImmutableArray<string>>? removed)
    {
        writer.WriteStartArray(name);
        foreach (var change in changes)
        {
            writer.WriteStartObject();
            writer.WriteStartObject("subset");
            foreach (var (key, value) in change.Pairs)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            WriteStrings(writer, removed is null ? "endpoints" : "endpointsAdded", endpoints(change));
            if (removed is not null)
            {
                WriteStrings(writer, "endpointsRemoved", removed(change));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, ImmutableArray<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static ServiceDiff CompareService(string name, RoutedService? before, RoutedService? after)
    {
        var old = before?.Resolver.Current;
        var now = after?.Resolver.Current;
        var oldSubsets = Subsets(old);
        var newSubsets = Subsets(now);
        var added = ImmutableArray.CreateBuilder<SubsetChange>();
        var removed = ImmutableArray.CreateBuilder<SubsetChange>();
        var changed = ImmutableArray.CreateBuilder<SubsetChange>();
        foreach (var (key, subset) in newSubsets)
        {
            var members = Members(subset);
            if (!oldSubsets.TryGetValue(key, out var was))
            {
                added.Add(new SubsetChange(subset.Pairs, [.. members], []));
            }
            else if (Members(was) is var wasMembers && !wasMembers.SetEquals(members))
            {
                changed.Add(new SubsetChange(subset.Pairs, [.. members.Except(wasMembers, StringComparer.Ordinal).Order(StringComparer.Ordinal)], [.. wasMembers.Except(members, StringComparer.Ordinal).Order(StringComparer.Ordinal)]));
            }
        }

        foreach (var (key, subset) in oldSubsets)
        {
            if (!newSubsets.ContainsKey(key))
            {
                removed.Add(new SubsetChange(subset.Pairs, [.. Members(subset)], []));
            }
        }

        var wasRoutable = Routable(old);
        var isRoutable = Routable(now);
        return new ServiceDiff(name, before is not null, after is not null)
        {
            SubsetsAdded = added.ToImmutable(),
            SubsetsRemoved = removed.ToImmutable(),
            SubsetsChanged = changed.ToImmutable(),
            BecomeRoutable = [.. isRoutable.Except(wasRoutable, StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            StopBeingRoutable = [.. wasRoutable.Except(isRoutable, StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            PolicyChanges = before is null || after is null ? [] : PolicyChanges(before, after),
        };
    }

    private static SortedDictionary<string, Subset> Subsets(SubsetIndex? index)
    {
        var result = new SortedDictionary<string, Subset>(StringComparer.Ordinal);
        foreach (var subset in index?.Subsets ?? [])
        {
            result[subset.ToString()] = subset;
        }

        return result;
    }

    private static SortedSet<string> Members(Subset subset) => new(subset.Endpoints.Select(static e => e.Authority), StringComparer.Ordinal);

    private static HashSet<string> Routable(SubsetIndex? index) =>
        [.. (index?.Endpoints ?? []).Where(static e => e.IsHealthy).Select(static e => e.Authority)];

    private static ImmutableArray<string> PolicyChanges(RoutedService before, RoutedService after)
    {
        var changes = ImmutableArray.CreateBuilder<string>();
        var (old, now) = (before.Resolver.Current, after.Resolver.Current);
        var (a, b) = (old.Policy.DynamicSubset, now.Policy.DynamicSubset);
        Compare("fallbackPolicy", a.FallbackPolicy.ToMeshName(), b.FallbackPolicy.ToMeshName());
        Compare("defaultSubset", Pairs(a.DefaultSubset), Pairs(b.DefaultSubset));
        Compare("subsetSelectors", Selectors(a), Selectors(b));
        if (before.Routes.IsEmpty && after.Routes.IsEmpty)
        {
            // With routes, each route's pool has its own mappings and is compared as a service of its own.
            Compare("headers", Mappings(old.Policy.HeaderMappings), Mappings(now.Policy.HeaderMappings));
        }

        Compare("loadBalancer", old.Policy.LoadBalancing.ToMeshName() + (old.Policy.ConsistentHash is { } h1 ? $" ({h1})" : ""),
            now.Policy.LoadBalancing.ToMeshName() + (now.Policy.ConsistentHash is { } h2 ? $" ({h2})" : ""));
        Compare("routes", Routes(before), Routes(after));
        return changes.ToImmutable();

        void Compare(string field, string was, string @is)
        {
            if (!string.Equals(was, @is, StringComparison.Ordinal))
            {
                changes.Add($"{field}: {was} -> {@is}");
            }
        }

        static string Pairs(IReadOnlyDictionary<string, string> pairs) =>
            pairs.Count == 0 ? "none" : "{" + string.Join(", ", pairs.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => $"{p.Key}={p.Value}")) + "}";

        static string Selectors(DynamicSubsetPolicy policy) =>
            policy.SubsetSelectors.IsEmpty ? "none" : string.Join("; ", policy.SubsetSelectors.Select(static s =>
                $"[{string.Join(", ", s.Keys)}]" +
                (s.FallbackPolicy is { } p ? $" fallback {p.ToMeshName()}" : "") +
                (s.FallbackKeysSubset.IsEmpty ? "" : $" keys [{string.Join(", ", s.FallbackKeysSubset)}]")));

        static string Mappings(ImmutableArray<HeaderMapping> mappings) =>
            mappings.IsEmpty ? "none" : string.Join("; ", mappings.Select(static m => $"{m.Header} -> {m.Key}" + (m.DefaultValue is { } d ? $" (default {d})" : "")));

        static string Routes(RoutedService service) =>
            service.Routes.IsEmpty ? "none" : string.Join("; ", service.Routes.Select((r, i) =>
                $"{r.Name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)}: " +
                string.Join(", ", r.Destinations.Select(d => r.Destinations.Length > 1 ? $"{Destination(d)} {d.Weight}" : Destination(d))) +
                (r.Destinations.FirstOrDefault()?.Service.Resolver.Current.Policy.HeaderMappings is { IsEmpty: false } m ? $" (headers {Mappings(m)})" : "")));

        static string Destination(RouteDestination d) => d.Subset is null ? d.Host : $"{d.Host}/{d.Subset}";
    }
}
