using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>
/// Mutation fuzzing of the configuration reader: real mesh files, damaged the ways files get damaged (byte flips,
/// truncations, huge numbers, deep nesting, aliases, long strings, non-UTF-8 bytes). Whatever comes in, the reader
/// answers with diagnostics that point into the file, and a configuration it accepts builds and resolves. Any
/// exception is a failure, reported with the seed that reproduces it.
/// </summary>
/// <remarks>
/// CI runs <see cref="DefaultCases"/> cases. A long run: <c>DSR_FUZZ_CASES=1000000 dotnet test -c Release
/// --project tests/DynamicSubset.Routing.Configuration.Tests -- --filter-class "*FuzzTests"</c> (docs/resilience.md).
/// </remarks>
public class FuzzTests
{
    public const int DefaultCases = 10_000;

    private static readonly string[] Corpus = LoadCorpus();

    private static readonly string[] Splices =
    [
        "99999999999999999999999", "4294967296", "4294967295", "2147483648", "-1", "1e400", "0x10", ".inf", "NaN", "~", "null",
        "&a", "*a", "<<: *a", "*nosuch", "!!binary", "!tag", "? complex", "{", "}", "[", "]", "- ", ": ", "'", "\"", "#",
        "\t", "\r", "\0", "\uFEFF", "\u2028", "---\n", "...\n", "%YAML 1.2\n", "%ip%", "%pod%", "weight: 4294967295",
        "keys: []", "subsetSelectors: ", "fallbackPolicy: KEYS_SUBSET", "defaultSubset: {}", "podIP: ::ffff:10.0.0.1",
        "address: 300.1.1.1", "port: 0", "targetPort: 70000", "containerPort: -5", "interval: 10x", "baseEjectionTime: 0s",
        "regex: '(a'", "regex: '(?=a)'", "weight: 0", "subset: nosuch", "tableSize: 65536", "minimumRingSize: 0", "retryOn: bogus",
        "match: []", "route: []", "exact: ", "prefix: ", "ttl: -1s", "attempts: 1000", "timeout: 1h",
    ];

    public static int Cases => int.TryParse(Environment.GetEnvironmentVariable("DSR_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : DefaultCases;

    [Fact]
    public void MutatedMeshFiles_AreAnsweredWithDiagnostics_NeverAnException()
    {
        var property = Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed => Check(seed));
        property.Check(Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true));
    }

    /// <summary>Seeds the random runs once failed with: each replays the mutated file exactly.</summary>
    [Theory]
    [InlineData(2010620094)] // two host-less VirtualServices of one name: the delegate index threw on the duplicate key
    public void SeedsThatOnceFailed_AreAnsweredWithDiagnostics(int seed) => Assert.True(Check(seed));

    [Fact]
    public void TwoDelegatesOfOneName_KeepTheFirst_AndTheOtherIsWarned()
    {
        var config = Fixtures.Parse("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: team, namespace: default}
            spec: {http: [{route: [{destination: {host: helloworld}}]}]}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: team, namespace: default}
            spec: {http: [{route: [{destination: {host: other}}]}]}
            """);

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.Contains(config.Diagnostics, d => d.Code == "DSR1007" && d.Line == 6 &&
            d.Message == "another VirtualService default/team without hosts is already defined; only the first is used as a delegate");
    }

    [Fact]
    public void NonUtf8Bytes_InAFile_AreReadWithoutAnException()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dsr-fuzz-{Guid.NewGuid():N}.yaml");
        try
        {
            var random = new Random(7);
            for (var i = 0; i < 200; i++)
            {
                var bytes = Encoding.UTF8.GetBytes(Corpus[random.Next(Corpus.Length)]);
                for (var j = 0; j < 1 + random.Next(8); j++)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(0x80, 0x100); // lone continuation and lead bytes
                }

                File.WriteAllBytes(path, bytes);
                AssertAnswered(MeshConfiguration.Load([path]), i);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>One case: the seed picks a file and its damage.</summary>
    internal static bool Check(int seed)
    {
        var text = Mutate(seed);
        MeshConfiguration config;
        try
        {
            config = MeshConfiguration.Parse([new ConfigurationText("fuzz.yaml", text), new ConfigurationText("rules.yaml", Fixtures.Dr + "\n---\n" + Fixtures.Vs)]);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"seed {seed}: the reader threw {e.GetType().Name}: {e.Message}", e);
        }

        AssertAnswered(config, seed);
        return true;
    }

    private static void AssertAnswered(MeshConfiguration config, int seed)
    {
        foreach (var d in config.Diagnostics)
        {
            if (d.Line < 1 || d.Column < 1 || string.IsNullOrEmpty(d.Code) || string.IsNullOrEmpty(d.File))
            {
                throw new InvalidOperationException($"seed {seed}: a diagnostic without a position: {d}");
            }
        }

        if (config.HasErrors)
        {
            return;
        }

        foreach (var service in config.Services)
        {
            try
            {
                var resolver = new SubsetResolver(service.BuildIndex());
                resolver.Resolve(Fixtures.Headers(("x-stage", "prod"), ("x-version", "v3")));
                resolver.Resolve(Fixtures.Headers(("x-stage", "dev")));
                resolver.Resolve(Fixtures.Headers());
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"seed {seed}: accepted configuration failed to build or resolve: {e.GetType().Name}: {e.Message}", e);
            }
        }

        // Routes too: every service of the catalog routes a few requests, and explains one.
        using var catalog = config.CreateCatalog();
        foreach (var service in catalog.Current.Services)
        {
            try
            {
                var headers = new DictionaryHeaderSource(Fixtures.Headers(("x-user", "ana-1"), ("x-debug", ""), ("Cookie", "affinity=abc")));
                service.Route(new RouteRequest("POST", "/admin/x?beta=1", "hello.example.com", "http", 8000), headers);
                service.Route(new RouteRequest("GET", "/"), new DictionaryHeaderSource(Fixtures.Headers()));
                _ = Explanation.Of(service, new RouteRequest("GET", "/ops/a?beta=1"), headers);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"seed {seed}: accepted configuration failed to build or resolve: {e.GetType().Name}: {e.Message}", e);
            }
        }
    }

    internal static string Mutate(int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(Corpus[random.Next(Corpus.Length)]);
        var mutations = 1 + random.Next(4);
        for (var m = 0; m < mutations && text.Length > 0; m++)
        {
            var at = random.Next(text.Length);
            switch (random.Next(9))
            {
                case 0: // flip a character
                    text[at] = (char)(text[at] ^ (1 << random.Next(7)));
                    break;
                case 1: // truncate
                    text.Length = at;
                    break;
                case 2: // splice in a token
                    text.Insert(at, Splices[random.Next(Splices.Length)]);
                    break;
                case 3: // delete a run
                    text.Remove(at, Math.Min(text.Length - at, 1 + random.Next(40)));
                    break;
                case 4: // nest deeply, in flow or block style
                    var depth = random.Next(2) == 0 ? 50 + random.Next(200) : 5_000 + random.Next(20_000);
                    text.Insert(at, random.Next(2) == 0 ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{a: ", depth)) + new string('}', depth));
                    break;
                case 5: // a long string
                    text.Insert(at, new string((char)('a' + random.Next(26)), 1 + random.Next(70_000)));
                    break;
                case 6: // repeat a piece (duplicate keys, more items)
                    var length = Math.Min(text.Length - at, 1 + random.Next(400));
                    var piece = text.ToString(at, length);
                    for (var r = random.Next(1, 6); r > 0; r--)
                    {
                        text.Insert(at, piece);
                    }

                    break;
                case 7: // alias every map to the one before
                    var line = text.ToString().LastIndexOf("\n  ", at, StringComparison.Ordinal);
                    if (line > 0)
                    {
                        text.Insert(line + 1, "x: &a {b: [*a, *a]}\n");
                    }

                    break;
                default: // swap two lines
                    var lines = text.ToString().Split('\n');
                    if (lines.Length > 2)
                    {
                        var (i, j) = (random.Next(lines.Length), random.Next(lines.Length));
                        (lines[i], lines[j]) = (lines[j], lines[i]);
                        text.Clear().AppendJoin('\n', lines);
                    }

                    break;
            }
        }

        return text.ToString();
    }

    private static string[] LoadCorpus()
    {
        var data = Path.Combine(AppContext.BaseDirectory, "TestData");
        return [.. Directory.EnumerateFiles(data, "*.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllText)];
    }
}
