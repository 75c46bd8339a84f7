using System.Text.RegularExpressions;

namespace DynamicSubset.Routing.Tests;

/// <summary>
/// CI runs the test projects at the same time, and their fake pods listen on fixed ports (5678) of their own loopback
/// addresses. Two projects that take the same <c>127.0.N.x</c> block can take the same address and port at once, and
/// one of them then fails to bind, by chance (a CI run failed so: two projects' pods on one address and port).
/// This keeps each block to one test project.
/// </summary>
public partial class LoopbackBlockTests
{
    [Fact]
    public void EachLoopbackBlock_BelongsToOneTestProject()
    {
        var tests = Path.Combine(RepositoryRoot(), "tests");
        var owners = new Dictionary<int, SortedSet<string>>();
        foreach (var file in Directory.EnumerateFiles(tests, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(tests, file);
            var project = relative.Split(Path.DirectorySeparatorChar)[0];
            if (relative.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || relative.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            foreach (Match match in Block().Matches(text))
            {
                var block = int.Parse(match.Groups["a"].Success ? match.Groups["a"].Value : match.Groups["b"].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (block == 0)
                {
                    continue; // 127.0.0.x: port 0 and data only, by convention
                }

                if (!owners.TryGetValue(block, out var projects))
                {
                    owners[block] = projects = [];
                }

                projects.Add($"{project} ({Path.GetFileName(file)})");
            }
        }

        Assert.NotEmpty(owners);
        var shared = owners
            .Where(o => o.Value.Select(p => p[..p.IndexOf(' ', StringComparison.Ordinal)]).Distinct().Count() > 1)
            .Select(o => $"127.0.{o.Key}.x: {string.Join(", ", o.Value)}")
            .ToList();
        Assert.True(shared.Count == 0, "loopback blocks taken by more than one test project:\n" + string.Join("\n", shared));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DynamicSubset.Routing.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no DynamicSubset.Routing.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"127\.0\.(?<a>\d+)\.|block: (?<b>\d+)")]
    private static partial Regex Block();
}
