using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>FsCheck: any valid model, written as DestinationRule + VirtualService YAML, reads back equal.</summary>
public class RoundTripTests
{
    private static readonly string[] Keys = ["stage", "version", "zone", "%ip%", "app.kubernetes.io/name"];
    private static readonly string[] Values = ["dev", "v1", "a b", "10.0.0.1", "'quoted'", "yes", "1.0", "ünïcode", "-"];

    private static Gen<SubsetSelector> SelectorGen =>
        from keys in Gen.SubListOf(Keys).Where(k => k.Count > 0)
        from policy in Gen.Elements<FallbackPolicy?>(null, FallbackPolicy.NoFallback, FallbackPolicy.AnyEndpoint, FallbackPolicy.DefaultSubset, FallbackPolicy.KeysSubset)
        from subset in Gen.SubListOf(keys.ToArray())
        let usable = policy == FallbackPolicy.KeysSubset && (subset.Count == 0 || subset.Count == keys.Count) ? FallbackPolicy.AnyEndpoint : policy
        select new SubsetSelector(keys, usable, usable == FallbackPolicy.KeysSubset ? subset : null);

    private static Gen<RoutingPolicy> PolicyGen =>
        from selectors in Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(SelectorGen, n))
        from global in Gen.Elements(FallbackPolicy.NoFallback, FallbackPolicy.AnyEndpoint, FallbackPolicy.DefaultSubset)
        from defaultKeys in Gen.SubListOf(Keys)
        from defaultValues in Gen.ArrayOf(Gen.Elements(Values), defaultKeys.Count)
        from mappedKeys in Gen.SubListOf(Keys)
        from defaults in Gen.ArrayOf(Gen.Elements<string?>(null, "v3", "prod", "a: b", "#x"), mappedKeys.Count)
        from lb in Gen.Elements(LoadBalancingPolicy.LeastRequest, LoadBalancingPolicy.RoundRobin, LoadBalancingPolicy.Random)
        select new RoutingPolicy(
            new DynamicSubsetPolicy(selectors, global, defaultKeys.Zip(defaultValues, (k, v) => new KeyValuePair<string, string>(k, v))),
            mappedKeys.Select((k, i) => new HeaderMapping("x-" + k.Trim('%').Replace('/', '-'), k, defaults[i])),
            lb);

    [Property(MaxTest = 300)]
    public Property Policy_WrittenAsYaml_ReadsBackEqual() => Prop.ForAll(Arb.From(PolicyGen), policy =>
    {
        var yaml = ToYaml(policy);
        var config = MeshConfiguration.Parse([new ConfigurationText("roundtrip.yaml", yaml)]);
        if (config.HasErrors)
        {
            return false.Label($"{string.Join("\n", config.Diagnostics)}\n{yaml}");
        }

        var read = Assert.Single(config.Services).Policy;
        return (Describe(read) == Describe(policy)).Label($"read:\n{Describe(read)}\nwritten:\n{Describe(policy)}\n{yaml}");
    });

    private static string Q(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string ToYaml(RoutingPolicy policy)
    {
        var b = new StringBuilder();
        var ds = policy.DynamicSubset;
        b.AppendLine("apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n  name: svc\nspec:\n  host: svc");
        b.AppendLine("  trafficPolicy:\n    loadBalancer:");
        b.AppendLine(CultureInfo.InvariantCulture, $"      simple: {policy.LoadBalancing.ToMeshName()}");
        b.AppendLine("      dynamicSubset:");
        b.AppendLine(CultureInfo.InvariantCulture, $"        fallbackPolicy: {ds.FallbackPolicy.ToMeshName()}");
        if (ds.DefaultSubset.Count > 0)
        {
            b.AppendLine("        defaultSubset:");
            foreach (var (k, v) in ds.DefaultSubset)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"          {Q(k)}: {Q(v)}");
            }
        }

        b.AppendLine("        subsetSelectors:");
        foreach (var s in ds.SubsetSelectors)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"          - keys: [{string.Join(", ", s.Keys.Select(Q))}]");
            if (s.FallbackPolicy is { } p)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"            fallbackPolicy: {p.ToMeshName()}");
            }

            if (!s.FallbackKeysSubset.IsEmpty)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"            fallbackKeysSubset: [{string.Join(", ", s.FallbackKeysSubset.Select(Q))}]");
            }
        }

        b.AppendLine("---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: svc\nspec:\n  hosts: [svc]\n  http:");
        b.AppendLine("    - route:\n        - destination: {host: svc}");
        if (!policy.HeaderMappings.IsEmpty)
        {
            b.AppendLine("      headerToDynamicSubsetKey:");
            foreach (var m in policy.HeaderMappings)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"        - header: {m.Header}\n          key: {Q(m.Key)}");
                if (m.DefaultValue is not null)
                {
                    b.AppendLine(CultureInfo.InvariantCulture, $"          defaultValue: {Q(m.DefaultValue)}");
                }
            }
        }

        return b.ToString();
    }

    private static string Describe(RoutingPolicy p) =>
        $"lb {p.LoadBalancing} global {p.DynamicSubset.FallbackPolicy} default [{string.Join(",", p.DynamicSubset.DefaultSubset)}]\n" +
        string.Join("\n", p.DynamicSubset.SubsetSelectors.Select(s => $"{s} {s.FallbackPolicy} [{string.Join(",", s.FallbackKeysSubset)}]")) + "\n" +
        string.Join("\n", p.HeaderMappings.Select(m => m.ToString()));
}
