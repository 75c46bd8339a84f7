using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DynamicSubset.Routing.Tests;

/// <summary>FsCheck properties: the index and resolver against <see cref="ReferenceModel"/>.</summary>
public class PropertyTests
{
    private static readonly string[] LabelKeys = ["stage", "version", "zone"];
    private static readonly string[] AllKeys = ["stage", "version", "zone", "%ip%"];
    private static readonly string[] Values = ["a", "b", "c", "A"];
    private static readonly string[] Ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1"];

    private static Gen<RawEndpoint> EndpointGen =>
        from ip in Gen.Elements(Ips)
        from port in Gen.Elements(80, 81)
        from labels in LabelsGen
        from healthy in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from weight in Gen.Choose(1, 3)
        select new RawEndpoint(ip, port, labels, healthy, weight);

    private static Gen<(string, string)[]> LabelsGen =>
        from keys in Gen.SubListOf(LabelKeys)
        from values in Gen.ArrayOf(Gen.Elements(Values), keys.Count)
        select keys.Zip(values).ToArray();

    private static Gen<RawEndpoint[]> EndpointsGen =>
        from list in Gen.ListOf(EndpointGen)
        select list.DistinctBy(e => e.Address).Take(12).ToArray();

    private static Gen<RawSelector> SelectorGen =>
        from keys in Gen.NonEmptyListOf(Gen.Elements(AllKeys))
        from policy in Gen.Elements<FallbackPolicy?>(null, FallbackPolicy.NoFallback, FallbackPolicy.AnyEndpoint, FallbackPolicy.DefaultSubset, FallbackPolicy.KeysSubset, FallbackPolicy.KeysSubset)
        from subset in policy == FallbackPolicy.KeysSubset
            ? Gen.SubListOf(keys.Distinct().ToArray())
            : Gen.Frequency((19, Gen.Constant(new List<string>())), (1, Gen.SubListOf(keys.ToArray())))
        select new RawSelector([.. keys.Take(3)], policy, [.. subset]);

    private static Gen<RawMapping[]> MappingsGen =>
        from keys in Gen.SubListOf(AllKeys)
        from defaults in Gen.ArrayOf(Gen.Elements<string?>(null, null, "a", "b", "10.0.0.1"), keys.Count)
        from duplicate in Gen.Frequency((19, Gen.Constant(false)), (1, Gen.Constant(true)))
        let mappings = keys.Zip(defaults, (k, d) => new RawMapping("x-" + k.Trim('%'), k, d)).ToArray()
        select duplicate && mappings.Length > 0 ? [.. mappings, mappings[0] with { Header = "x-again" }] : mappings;

    private static Gen<Dictionary<string, string>> RequestGen(RawMapping[] mappings) =>
        from present in Gen.SubListOf(mappings)
        from values in Gen.ArrayOf(Gen.Elements("a", "b", "c", "A", "", "10.0.0.1", "10.0.0.2", "fd00::1", new string('a', 8193)), present.Count)
        from upper in Gen.ArrayOf(Gen.Elements(false, true), present.Count)
        select present
            .Select((m, i) => (Name: upper[i] ? m.Header.ToUpperInvariant() : m.Header, Value: values[i]))
            .DistinctBy(h => h.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(h => h.Name, h => h.Value, StringComparer.Ordinal);

    private static Gen<Scenario> ScenarioGen =>
        from endpoints in EndpointsGen
        from selectors in Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(SelectorGen, n))
        from global in Gen.Frequency(
            (10, Gen.Elements(FallbackPolicy.NoFallback, FallbackPolicy.AnyEndpoint, FallbackPolicy.DefaultSubset)),
            (1, Gen.Constant(FallbackPolicy.KeysSubset)))
        from defaultKeys in Gen.SubListOf(new[] { "stage", "version", "%ip%" })
        from defaultValues in Gen.ArrayOf(Gen.Elements("a", "b", "10.0.0.2"), defaultKeys.Count)
        from mappings in MappingsGen
        from requests in Gen.ListOf(RequestGen(mappings), 6)
        select new Scenario([.. endpoints], [.. selectors], global, [.. defaultKeys.Zip(defaultValues)], mappings, [.. requests]);

    private static Gen<(string Kind, RawEndpoint Endpoint)> ChangeGen =>
        from kind in Gen.Elements("upsert", "upsert", "remove", "health", "labels")
        from endpoint in EndpointGen
        select (kind, endpoint);

    [Property(MaxTest = 400)]
    public Property Resolver_AgreesWithReferenceModel() => Prop.ForAll(Arb.From(ScenarioGen), scenario =>
    {
        var error = ReferenceModel.Validate(scenario);
        RoutingPolicy policy;
        try
        {
            policy = scenario.ToPolicy();
        }
        catch (RoutingValidationException e)
        {
            return (error is not null).Label($"library rejected a valid scenario: {e.Message}\n{scenario}");
        }

        if (error is not null)
        {
            return false.Label($"library accepted a scenario the model rejects ({error})\n{scenario}");
        }

        var resolver = new SubsetResolver(SubsetIndex.Build(scenario.Endpoints.Select(e => e.ToEndpoint()), policy), new Random(42));
        foreach (var request in scenario.Requests)
        {
            var expected = ReferenceModel.Resolve(scenario, request);
            for (var i = 0; i < 3; i++)
            {
                var actual = resolver.Resolve(request);
                var ok = actual.Outcome == expected.Outcome &&
                    actual.FallbackPolicy == expected.Policy &&
                    actual.FallbackScope == expected.Scope &&
                    actual.Subset?.ToString() == expected.Subset &&
                    (actual.Endpoint is null ? expected.Allowed.Count == 0 || expected.Outcome == ResolutionOutcome.NoHealthyUpstream : expected.Allowed.Contains(actual.Endpoint.ToString()));
                if (!ok)
                {
                    return false.Label(
                        $"request {string.Join(",", request)}: got {actual}, expected {expected.Outcome} {expected.Policy} {expected.Scope} " +
                        $"subset {expected.Subset} one of [{string.Join(",", expected.Allowed)}]\n{scenario}");
                }
            }
        }

        return true.ToProperty();
    });

    [Property(MaxTest = 300)]
    public Property Apply_EqualsFreshBuild() => Prop.ForAll(
        Arb.From(
            from generated in ScenarioGen.Where(s => ReferenceModel.Validate(s) is null)
            from uniform in Gen.Elements(false, true)
            from changes in Gen.ListOf(ChangeGen)
            from batch in Gen.Elements(false, true)
            // Half the time every endpoint starts healthy at weight 1, so that updates hit the shortcut for sets
            // that stay uniform, and the changes (sometimes unhealthy or heavier) break it.
            let scenario = uniform ? generated with { Endpoints = [.. generated.Endpoints.Select(e => e with { Healthy = true, Weight = 1 })] } : generated
            select (scenario, changes.ToArray(), batch)),
        input =>
        {
            var (scenario, changes, batch) = input;
            var policy = scenario.ToPolicy(LoadBalancingPolicy.Random);
            var incremental = SubsetIndex.Build(scenario.Endpoints.Select(e => e.ToEndpoint()), policy);
            var asChanges = changes.Select(c => c.Kind switch
            {
                "upsert" => EndpointChange.Upsert(c.Endpoint.ToEndpoint()),
                "remove" => EndpointChange.Remove(c.Endpoint.ToEndpoint().AddressKey),
                "health" => EndpointChange.SetHealth(c.Endpoint.ToEndpoint().AddressKey, c.Endpoint.Healthy),
                _ => EndpointChange.SetLabels(c.Endpoint.ToEndpoint().AddressKey, Topology.Labels(c.Endpoint.Labels)),
            }).ToArray();

            if (batch)
            {
                incremental = incremental.Apply(asChanges);
            }
            else
            {
                foreach (var change in asChanges)
                {
                    incremental = incremental.Apply([change]);
                }
            }

            var finalEndpoints = ReferenceModel.ApplyChanges(scenario.Endpoints, changes);
            var fresh = SubsetIndex.Build(finalEndpoints.Select(e => e.ToEndpoint()), policy);

            var same = Describe(incremental) == Describe(fresh);
            var a = new SubsetResolver(incremental, new Random(7));
            var b = new SubsetResolver(fresh, new Random(7));
            foreach (var request in scenario.Requests)
            {
                var (ra, rb) = (a.Resolve(request), b.Resolve(request));
                same &= ra.ToString() == rb.ToString() && ra.CandidateEndpoints.SequenceEqual(rb.CandidateEndpoints);
            }

            return same.Label($"incremental:\n{Describe(incremental)}\nfresh:\n{Describe(fresh)}\n{scenario}\nchanges: {string.Join(" ", changes)}");
        });

    [Property(MaxTest = 200)]
    public Property Build_EveryEndpointIsInTheSubsetOfItsValues_AndNowhereElse() => Prop.ForAll(
        Arb.From(ScenarioGen.Where(s => ReferenceModel.Validate(s) is null)),
        scenario =>
        {
            var index = SubsetIndex.Build(scenario.Endpoints.Select(e => e.ToEndpoint()), scenario.ToPolicy());
            foreach (var subset in index.Subsets)
            {
                var expected = index.Endpoints.Where(e => subset.Pairs.All(p => e.TryGetValue(p.Key, out var v) && v == p.Value));
                if (!expected.SequenceEqual(subset.Endpoints))
                {
                    return false.Label($"subset {subset}");
                }
            }

            var assigned = index.Subsets.SelectMany(s => s.Endpoints).ToHashSet();
            return index.UnassignedEndpoints.All(e => !assigned.Contains(e)).Label("unassigned endpoint found in a subset") .And(
                index.Endpoints.Where(e => !assigned.Contains(e)).SequenceEqual(index.UnassignedEndpoints).Label("unassigned list incomplete"));
        });

    private static string Describe(SubsetIndex index) =>
        string.Join("\n", index.Subsets.Select(s => $"{s}: {string.Join(" ", s.Endpoints.Select(Full))}")) +
        $"\ndefault: {(index.DefaultSubset is null ? "-" : string.Join(" ", index.DefaultSubset.Endpoints.Select(Full)))}" +
        $"\nunassigned: {string.Join(" ", index.UnassignedEndpoints.Select(Full))}" +
        $"\nall: {string.Join(" ", index.Endpoints.Select(Full))}";

    private static string Full(Endpoint e) => $"{e}{{{string.Join(",", e.Labels.Select(l => $"{l.Key}={l.Value}"))}}}{(e.IsHealthy ? "" : "!")}w{e.Weight}";
}
