namespace DynamicSubset.Routing.Tests;

/// <summary>Raw, unvalidated scenario data, as a user might write it.</summary>
internal sealed record RawEndpoint(string Ip, int Port, (string Key, string Value)[] Labels, bool Healthy, int Weight)
{
    public string Address => Ip.Contains(':', StringComparison.Ordinal) ? $"[{Ip}]:{Port}" : $"{Ip}:{Port}";

    public Endpoint ToEndpoint() => Endpoint.Create(Ip, Port, Topology.Labels(Labels), Healthy, Weight);

    public override string ToString() => $"{Address}{{{string.Join(",", Labels.Select(l => $"{l.Key}={l.Value}"))}}}{(Healthy ? "" : "!sick")}w{Weight}";
}

internal sealed record RawSelector(string[] Keys, FallbackPolicy? Policy, string[] KeysSubset)
{
    public override string ToString() => $"[{string.Join(",", Keys)}]{Policy}{(KeysSubset.Length > 0 ? "->" + string.Join(",", KeysSubset) : "")}";
}

internal sealed record RawMapping(string Header, string Key, string? Default)
{
    public override string ToString() => $"{Header}->{Key}({Default})";
}

internal sealed record Scenario(
    RawEndpoint[] Endpoints,
    RawSelector[] Selectors,
    FallbackPolicy Global,
    (string Key, string Value)[] DefaultSubset,
    RawMapping[] Mappings,
    Dictionary<string, string>[] Requests)
{
    public RoutingPolicy ToPolicy(LoadBalancingPolicy loadBalancing = LoadBalancingPolicy.Random) => new(
        new DynamicSubsetPolicy(
            Selectors.Select(s => new SubsetSelector(s.Keys, s.Policy, s.KeysSubset)),
            Global,
            Topology.Labels(DefaultSubset)),
        Mappings.Select(m => new HeaderMapping(m.Header, m.Key, m.Default)),
        loadBalancing);

    public override string ToString() =>
        $"endpoints: {string.Join(" ", (object[])Endpoints)}\nselectors: {string.Join(" ", (object[])Selectors)} global {Global} default [{string.Join(",", DefaultSubset)}]\n" +
        $"mappings: {string.Join(" ", (object[])Mappings)}\nrequests: {string.Join(" | ", Requests.Select(r => string.Join(",", r.Select(h => $"{h.Key}={(h.Value.Length > 20 ? "<long>" : h.Value)}"))))}";
}

/// <summary>What the model allows for one request.</summary>
internal sealed record Expected(ResolutionOutcome Outcome, HashSet<string> Allowed, FallbackPolicy? Policy, FallbackScope? Scope, string? Subset);

/// <summary>
/// A naive reading of SPEC.md, written as literally as possible: linear scans, no indexes. The library must
/// agree with it on every input.
/// </summary>
internal static class ReferenceModel
{
    /// <summary>Returns the first configuration error the SPEC and the core's contract name, or null.</summary>
    public static string? Validate(Scenario s)
    {
        static bool BadKey(string key) =>
            string.IsNullOrWhiteSpace(key) || (key.Length >= 2 && key[0] == '%' && key[^1] == '%' && key != "%ip%");

        foreach (var selector in s.Selectors)
        {
            var keys = selector.Keys.Distinct(StringComparer.Ordinal).ToArray();
            if (keys.Length == 0 || selector.Keys.Any(BadKey))
            {
                return "selector keys";
            }

            var subset = selector.KeysSubset.Distinct(StringComparer.Ordinal).ToArray();
            if (selector.Policy == FallbackPolicy.KeysSubset)
            {
                if (subset.Length == 0 || subset.Any(k => !keys.Contains(k)) || subset.Length == keys.Length)
                {
                    return "fallbackKeysSubset";
                }
            }
            else if (subset.Length > 0)
            {
                return "fallbackKeysSubset without KEYS_SUBSET";
            }
        }

        if (s.Selectors.Length == 0)
        {
            return "no selectors";
        }

        if (s.Global == FallbackPolicy.KeysSubset)
        {
            return "global KEYS_SUBSET";
        }

        if (s.DefaultSubset.Any(p => BadKey(p.Key)))
        {
            return "default key";
        }

        if (s.Mappings.Any(m => BadKey(m.Key) || m.Default == "") ||
            s.Mappings.GroupBy(m => m.Key, StringComparer.Ordinal).Any(g => g.Count() > 1))
        {
            return "mappings";
        }

        return null;
    }

    /// <summary>Applies SPEC rule 17's endpoint changes literally, on a list.</summary>
    public static List<RawEndpoint> ApplyChanges(IEnumerable<RawEndpoint> endpoints, IEnumerable<(string Kind, RawEndpoint Endpoint)> changes)
    {
        var list = endpoints.ToList();
        foreach (var (kind, change) in changes)
        {
            var i = list.FindIndex(e => e.Address == change.Address);
            switch (kind)
            {
                case "upsert" when i >= 0:
                    list[i] = change;
                    break;
                case "upsert":
                    list.Add(change);
                    break;
                case "remove" when i >= 0:
                    list.RemoveAt(i);
                    break;
                case "health" when i >= 0:
                    list[i] = list[i] with { Healthy = change.Healthy };
                    break;
                case "labels" when i >= 0:
                    list[i] = list[i] with { Labels = change.Labels };
                    break;
            }
        }

        return list;
    }

    public static Expected Resolve(Scenario s, Dictionary<string, string> headers)
    {
        // Rule 6: each mapping contributes its header, its default, or nothing.
        var criteria = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mapping in s.Mappings)
        {
            var header = headers.FirstOrDefault(h => string.Equals(h.Key, mapping.Header, StringComparison.OrdinalIgnoreCase));
            var present = header.Key is not null && header.Value.Length <= 8192;
            if (present && header.Value.Length > 0)
            {
                criteria[mapping.Key] = header.Value;
            }
            else if (!present && mapping.Default is not null)
            {
                criteria[mapping.Key] = mapping.Default;
            }
        }

        // Rule 7.
        if (criteria.Count == 0)
        {
            return Fallback(s, s.Global, FallbackScope.Global);
        }

        var viaKeysSubset = false;
        while (true)
        {
            // Rules 3, 8, 11: the first selector whose key set equals the criteria's.
            var selector = s.Selectors.FirstOrDefault(sel => sel.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(criteria.Keys));
            if (selector is null)
            {
                return Fallback(s, s.Global, FallbackScope.Global);
            }

            // Rules 1, 4, 9: members share every value; only healthy ones count.
            var routable = s.Endpoints
                .Where(e => e.Healthy && criteria.All(c => ValueOf(e, c.Key) == c.Value))
                .Select(e => e.Address)
                .ToHashSet();
            if (routable.Count > 0)
            {
                var name = string.Join(", ", criteria.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));
                return viaKeysSubset
                    ? new(ResolutionOutcome.Fallback, routable, FallbackPolicy.KeysSubset, FallbackScope.Selector, name)
                    : new(ResolutionOutcome.Matched, routable, null, null, name);
            }

            switch (selector.Policy)
            {
                case null:
                    return Fallback(s, s.Global, FallbackScope.Global);
                case FallbackPolicy.KeysSubset:
                    criteria = criteria.Where(c => selector.KeysSubset.Contains(c.Key)).ToDictionary(StringComparer.Ordinal);
                    viaKeysSubset = true;
                    continue;
                default:
                    return Fallback(s, selector.Policy.Value, FallbackScope.Selector);
            }
        }
    }

    private static string? ValueOf(RawEndpoint e, string key) =>
        key == "%ip%" ? System.Net.IPAddress.Parse(e.Ip).ToString() : e.Labels.FirstOrDefault(l => l.Key == key).Value;

    // Rules 12 to 15.
    private static Expected Fallback(Scenario s, FallbackPolicy policy, FallbackScope scope)
    {
        var set = policy switch
        {
            FallbackPolicy.AnyEndpoint => s.Endpoints.Where(e => e.Healthy),
            FallbackPolicy.DefaultSubset => s.Endpoints.Where(e => e.Healthy && s.DefaultSubset.All(p => ValueOf(e, p.Key) == p.Value)),
            _ => [],
        };
        var allowed = set.Select(e => e.Address).ToHashSet();
        return allowed.Count == 0
            ? new(ResolutionOutcome.NoHealthyUpstream, allowed, policy, scope, null)
            : new(ResolutionOutcome.Fallback, allowed, policy, scope, null);
    }
}
