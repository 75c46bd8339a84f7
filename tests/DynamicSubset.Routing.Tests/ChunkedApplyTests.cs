using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DynamicSubset.Routing.Tests;

/// <summary>
/// Services large enough that the snapshot, its any-endpoint set and its big subsets are held in leaves (more than
/// 1,024 endpoints): changes applied one batch at a time, including runs that add or remove hundreds of endpoints (so
/// leaves split, empty and go flat again), route exactly as the final state built afresh.
/// </summary>
public class ChunkedApplyTests
{
    private static readonly string[] Stages = ["a", "b"];
    private static readonly string[] Versions = ["v1", "v2", "v3"];

    private static readonly RoutingPolicy Policy = new(
        new DynamicSubsetPolicy(
            [new SubsetSelector("stage"), new SubsetSelector("stage", "version")],
            FallbackPolicy.AnyEndpoint,
            defaultSubset: [new("stage", "a")]),
        [new HeaderMapping("x-stage", "stage"), new HeaderMapping("x-version", "version")]);

    private static readonly Dictionary<string, string>[] Requests =
    [
        new() { ["x-stage"] = "a" },
        new() { ["x-stage"] = "b", ["x-version"] = "v2" },
        new() { ["x-stage"] = "a", ["x-version"] = "v3" },
        new() { ["x-stage"] = "nowhere" }, // no subset: the any-endpoint set
        new(),
    ];

    [Property(MaxTest = 40)]
    public Property IncrementalChanges_OnLeaves_RouteAsAFreshBuild() => Prop.ForAll(
        Arb.From(
            from seed in Gen.Choose(0, int.MaxValue - 1)
            from size in Gen.Choose(1_025, 2_600)
            from batches in Gen.Choose(1, 30)
            select (seed, size, batches)),
        input =>
        {
            var (seed, size, batches) = input;
            var random = new Random(seed);
            var model = new SortedDictionary<int, Endpoint>();
            for (var i = 0; i < size; i++)
            {
                model[i * 2] = Create(i * 2, random);
            }

            var index = SubsetIndex.Build(model.Values, Policy);
            var log = new List<string>();
            for (var b = 0; b < batches; b++)
            {
                var changes = new List<EndpointChange>();
                for (var n = random.Next(1, 6); n > 0; n--)
                {
                    changes.AddRange(NextChanges(random, model, log));
                }

                index = index.Apply(changes);
            }

            var fresh = SubsetIndex.Build(model.Values, Policy);
            var same = Describe(index) == Describe(fresh);
            var incremental = new SubsetResolver(index, new Random(7));
            var built = new SubsetResolver(fresh, new Random(7));
            for (var r = 0; r < 200 && same; r++)
            {
                var request = Requests[r % Requests.Length];
                same &= incremental.Resolve(request).ToString() == built.Resolve(request).ToString();
            }

            return same.Label($"seed {seed}, size {size}, batches {batches}; {model.Count} endpoints at the end; {string.Join(" ", log.TakeLast(20))}");
        });

    [Fact]
    public void OneRelabel_At100kEndpoints_CopiesOnlyWhatItTouches()
    {
        var random = new Random(3);
        var endpoints = Enumerable.Range(0, 100_000).Select(i => Create(i, random, healthy: true, weight: 1)).ToArray();
        var index = SubsetIndex.Build(endpoints, Policy);
        var target = endpoints[50_000];
        var relabel = new[] { EndpointChange.SetLabels(target.AddressKey, new Dictionary<string, string> { ["stage"] = target.Labels["stage"] == "a" ? "b" : "a", ["version"] = "v1" }) };
        index.Apply(relabel); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var next = index.Apply(relabel);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The snapshot's leaf, two subsets' leaves (about 8 KB each) and the default subset's, with the spines; a copy
        // of the slots alone was 1.6 MB.
        Assert.True(allocated <= 64 * 1024, $"{allocated:N0} B allocated");

        // Counting the endpoints makes no array of them (the array of 100,000 is 800 KB).
        before = GC.GetAllocatedBytesForCurrentThread();
        var count = next.EndpointCount;
        var countAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal((100_000, 0L), (count, countAllocated));
        Assert.Equal(next.EndpointCount, next.Endpoints.Length);
        Assert.Equal(next.Endpoints.Length, index.Endpoints.Length);
        Assert.True(index.TryGetEndpoint(target.AddressKey, out var was));
        Assert.True(next.TryGetEndpoint(target.AddressKey, out var now));
        Assert.NotEqual(was.Labels["stage"], now.Labels["stage"]);
    }

    private static IEnumerable<EndpointChange> NextChanges(Random random, SortedDictionary<int, Endpoint> model, List<string> log)
    {
        var ids = model.Keys.ToArray();
        var roll = random.Next(100);
        if (ids.Length == 0 || roll < 15)
        {
            // Add one endpoint at a free id, between existing ones or past them.
            var id = random.Next(0, 6_000);
            if (model.ContainsKey(id))
            {
                yield break;
            }

            log.Add($"add {id}");
            yield return EndpointChange.Upsert(model[id] = Create(id, random));
            yield break;
        }

        var pick = ids[random.Next(ids.Length)];
        var endpoint = model[pick];
        switch (roll)
        {
            case < 40:
                var labels = new Dictionary<string, string> { ["stage"] = Stages[random.Next(2)], ["version"] = Versions[random.Next(3)] };
                log.Add($"relabel {pick}");
                model[pick] = endpoint.WithLabels(labels);
                yield return EndpointChange.SetLabels(endpoint.AddressKey, labels);
                break;
            case < 55:
                log.Add($"health {pick}");
                model[pick] = endpoint.WithHealth(!endpoint.IsHealthy);
                yield return EndpointChange.SetHealth(endpoint.AddressKey, !endpoint.IsHealthy);
                break;
            case < 62:
                log.Add($"weight {pick}");
                model[pick] = Endpoint.Create(endpoint.AddressText, endpoint.Port, endpoint.Labels, endpoint.IsHealthy, endpoint.Weight == 1 ? 3 : 1);
                yield return EndpointChange.Upsert(model[pick]);
                break;
            case < 77:
                log.Add($"remove {pick}");
                model.Remove(pick);
                yield return EndpointChange.Remove(endpoint.AddressKey);
                break;
            case < 88:
                // A run of removals: enough to empty leaves, and sometimes to bring a list back under the chunk size.
                var run = random.Next(50, 700);
                log.Add($"remove {run} from {pick}");
                foreach (var id in model.Keys.Where(k => k >= pick).Take(run).ToArray())
                {
                    yield return EndpointChange.Remove(model[id].AddressKey);
                    model.Remove(id);
                }

                break;
            default:
                // A run of additions in one address range: enough for a leaf to grow past two leaves' worth and split.
                var count = random.Next(50, 1_200);
                log.Add($"add {count} from {pick}");
                for (var id = pick; count > 0 && id < 12_000; id++)
                {
                    if (!model.ContainsKey(id))
                    {
                        yield return EndpointChange.Upsert(model[id] = Create(id, random));
                        count--;
                    }
                }

                break;
        }
    }

    private static Endpoint Create(int id, Random random, bool? healthy = null, long? weight = null) => Endpoint.Create(
        string.Create(CultureInfo.InvariantCulture, $"10.{id >> 16}.{(id >> 8) & 255}.{id & 255}"),
        8080,
        new Dictionary<string, string> { ["stage"] = Stages[random.Next(2)], ["version"] = Versions[random.Next(3)] },
        healthy ?? random.Next(10) != 0,
        weight ?? (random.Next(8) == 0 ? 2 : 1));

    private static string Describe(SubsetIndex index) =>
        string.Join("\n", index.Subsets.Select(s => $"{s}: {string.Join(" ", s.Endpoints.Select(Full))} | {string.Join(" ", s.RoutableEndpoints)}")) +
        $"\ndefault: {string.Join(" ", index.DefaultSubset!.Endpoints.Select(Full))} | {string.Join(" ", index.DefaultSubset.RoutableEndpoints)}" +
        $"\nunassigned: {string.Join(" ", index.UnassignedEndpoints.Select(Full))}" +
        $"\nall: {string.Join(" ", index.Endpoints.Select(Full))}";

    private static string Full(Endpoint e) => $"{e}{{{string.Join(",", e.Labels.Select(l => $"{l.Key}={l.Value}"))}}}{(e.IsHealthy ? "" : "!")}w{e.Weight}";
}
