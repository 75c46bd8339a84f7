using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DynamicSubset.Routing.Tests.Routes;

/// <summary>A condition as data, for the reference model: where it looks, and how it compares.</summary>
internal sealed record RawCondition(string Field, string? Name, string Kind, string Value)
{
    public override string ToString() => $"{Field}{(Name is null ? "" : $"[{Name}]")} {Kind} '{Value}'";
}

internal sealed record RawBlock(RawCondition[] Conditions, bool IgnoreUriCase)
{
    public override string ToString() => $"{{{string.Join(" & ", (object[])Conditions)}{(IgnoreUriCase ? " icase" : "")}}}";
}

internal sealed record RawRequest(string Method, string Path, (string Name, string Value)[] Headers)
{
    public override string ToString() => $"{Method} {Path} {string.Join(",", Headers.Select(h => $"{h.Name}={h.Value}"))}";
}

/// <summary>Istio's route matching read literally: a list scan, string methods, the ordinary regex engine.</summary>
internal static class RouteModel
{
    public static int FirstMatch(RawBlock[][] routes, RawRequest request)
    {
        for (var i = 0; i < routes.Length; i++)
        {
            if (routes[i].Length == 0 || routes[i].Any(block => block.Conditions.All(c => Holds(c, block.IgnoreUriCase, request))))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool Holds(RawCondition c, bool ignoreCase, RawRequest r)
    {
        var path = r.Path.Split('?')[0];
        var query = r.Path.Contains('?', StringComparison.Ordinal) ? r.Path[(r.Path.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
        string? header = r.Headers.Where(h => string.Equals(h.Name, c.Name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
        return c.Field switch
        {
            "uri" => Compare(c, path, ignoreCase),
            "method" => Compare(c, r.Method, false),
            "header" => header is not null && Compare(c, header, false),
            "without" => !(header is not null && Compare(c, header, false)),
            _ => query.Split('&').Select(p => p.Split('=', 2)).FirstOrDefault(p => p[0] == c.Name) is { } pair &&
                Compare(c, Uri.UnescapeDataString(pair.Length > 1 ? pair[1] : "").Replace('+', ' '), false),
        };
    }

    private static bool Compare(RawCondition c, string value, bool ignoreCase) => c.Kind switch
    {
        "present" => true,
        "exact" => string.Equals(value, c.Value, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal),
        "prefix" => value.StartsWith(c.Value, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal),
        _ => Regex.IsMatch(value, $"^(?:{c.Value})\\z", RegexOptions.CultureInvariant),
    };

    public static HttpRouteMatch ToMatch(RawBlock block)
    {
        StringMatch M(RawCondition c) => c.Kind switch
        {
            "present" => StringMatch.Present,
            "exact" => StringMatch.Exact(c.Value),
            "prefix" => StringMatch.Prefix(c.Value),
            _ => StringMatch.Regex(c.Value),
        };

        KeyValuePair<string, StringMatch>[] Of(string field) => [.. block.Conditions.Where(c => c.Field == field).Select(c => new KeyValuePair<string, StringMatch>(c.Name!, M(c)))];

        return new HttpRouteMatch
        {
            Uri = block.Conditions.FirstOrDefault(c => c.Field == "uri") is { } uri ? M(uri) : null,
            Method = block.Conditions.FirstOrDefault(c => c.Field == "method") is { } method ? M(method) : null,
            IgnoreUriCase = block.IgnoreUriCase,
            Headers = [.. Of("header")],
            WithoutHeaders = [.. Of("without")],
            QueryParams = [.. Of("query")],
        };
    }
}

/// <summary>FsCheck: the router agrees with <see cref="RouteModel"/> on random routes and requests.</summary>
public class RoutePropertyTests
{
    private static Gen<RawCondition> ConditionGen =>
        Gen.OneOf(
            from kind in Gen.Elements("exact", "prefix", "regex")
            from value in kind == "regex" ? Gen.Elements("/api/[0-9]+", "/(api|shop).*", "/") : Gen.Elements("/", "/api", "/api/1", "/API", "/shop")
            select new RawCondition("uri", null, kind, value),
            from value in Gen.Elements("GET", "POST", "get")
            select new RawCondition("method", null, "exact", value),
            from site in Gen.Elements("header", "without")
            from name in Gen.Elements("x-a", "X-B")
            from kind in Gen.Elements("exact", "prefix", "regex", "present")
            from value in kind == "regex" ? Gen.Elements("v[12]", "b.*", "") : Gen.Elements("v1", "v", "B", "")
            select new RawCondition(site, name, kind, kind == "present" ? "" : value),
            from kind in Gen.Elements("exact", "regex")
            from value in kind == "regex" ? Gen.Elements("[0-9]+", "a b") : Gen.Elements("1", "a b", "")
            select new RawCondition("query", "p", kind, value));

    private static Gen<RawBlock> BlockGen =>
        from conditions in Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(ConditionGen, n))
        from ignoreCase in Gen.Elements(false, true)
        select new RawBlock([.. conditions.DistinctBy(c => (c.Field, c.Field is "uri" or "method" ? null : c.Name?.ToLowerInvariant()))], ignoreCase);

    private static Gen<RawBlock[][]> RoutesGen =>
        Gen.Choose(1, 5).SelectMany(n => Gen.ListOf(Gen.Frequency((1, Gen.Constant(Array.Empty<RawBlock>())), (6, Gen.Choose(1, 2).SelectMany(b => Gen.ListOf(BlockGen, b).Select(l => l.ToArray())))), n))
            .Select(l => l.ToArray());

    private static Gen<RawRequest> RequestGen =>
        from method in Gen.Elements("GET", "POST")
        from path in Gen.Elements("/", "/api", "/api/1", "/API/1", "/shop?p=1", "/api/7?p=a+b", "/x?p=%31&q", "/api?p")
        from headers in Gen.SubListOf(("x-a", "v1"), ("X-A", "v2"), ("x-b", "b2"), ("x-B", ""), ("x-b", "B"))
        select new RawRequest(method, path, [.. headers.DistinctBy(h => h.Item1.ToLowerInvariant())]);

    [Property(MaxTest = 500)]
    public Property Router_AgreesWithTheReferenceModel() => Prop.ForAll(Arb.From(RoutesGen), Arb.From(Gen.ArrayOf(RequestGen, 8)), (routes, requests) =>
    {
        var pools = routes.Select((_, i) => Routing.Pool($"pool-{i}", Topology.Helloworld)).ToArray();
        var service = new RoutedService("helloworld", Routing.All.Resolver)
        {
            Routes = [.. routes.Select((blocks, i) => new HttpRouteRule([new RouteDestination("helloworld", null, pools[i])], blocks.Select(RouteModel.ToMatch)))],
        };

        foreach (var request in requests)
        {
            var expected = RouteModel.FirstMatch(routes, request);
            var headers = request.Headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);
            var decision = service.Route(new RouteRequest(request.Method, request.Path), new DictionaryHeaderSource(headers));
            var actual = decision.IsNoRoute ? -1 : decision.RouteIndex;
            if (actual != expected)
            {
                return false.Label($"{request}: expected route {expected}, got {actual}\nroutes: {string.Join(" | ", routes.Select(r => string.Join(" or ", (object[])r)))}");
            }

            var checks = service.ExplainRoutes(new RouteRequest(request.Method, request.Path), new DictionaryHeaderSource(headers));
            if (checks.Count(c => c.Matched) != (expected < 0 ? 0 : 1) || (expected >= 0 && checks.Length != expected + 1))
            {
                return false.Label($"{request}: the explanation disagrees: {string.Join("; ", checks)}");
            }
        }

        return true.ToProperty();
    });
}
