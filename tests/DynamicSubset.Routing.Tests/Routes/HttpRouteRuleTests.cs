using System.Collections.Immutable;
using static DynamicSubset.Routing.Tests.Routes.Routing;

namespace DynamicSubset.Routing.Tests.Routes;

/// <summary>Istio's VirtualService HTTP routing rules (docs/semantics.md, "VirtualService routes"), one test per rule.</summary>
public class HttpRouteRuleTests
{
    private static readonly RoutedService V1 = Only("v1");
    private static readonly RoutedService V2 = Only("v2");
    private static readonly RoutedService V3 = Only("v3");

    [Fact]
    public void Route1_RoutesAreTriedInOrder_TheFirstThatMatchesWins()
    {
        var service = Service(
            To(V1, new HttpRouteMatch { Uri = StringMatch.Prefix("/admin") }),
            To(V2, new HttpRouteMatch { Uri = StringMatch.Prefix("/") }),
            To(V3, new HttpRouteMatch { Uri = StringMatch.Prefix("/admin/deep") }));

        Assert.Same(V1, Route(service, "/admin/deep").Service);
        Assert.Equal(0, Route(service, "/admin/deep").RouteIndex);
        Assert.Same(V2, Route(service, "/shop").Service);
    }

    [Fact]
    public void Route2_ARouteWithoutMatch_MatchesEveryRequest()
    {
        var service = Service(To(V1, new HttpRouteMatch { Method = StringMatch.Exact("POST") }), To(V3));

        Assert.Same(V3, Route(service, "/anything?x=1", "DELETE").Service);
        Assert.Same(V1, Route(service, "/", "POST").Service);
    }

    [Fact]
    public void Route3_EveryConditionOfABlockMustHold_AnyBlockSuffices()
    {
        var both = new HttpRouteMatch { Uri = StringMatch.Prefix("/api"), Headers = [Header("x-canary", StringMatch.Exact("yes"))] };
        var service = Service(To(V2, both, new HttpRouteMatch { Method = StringMatch.Exact("PUT") }), To(V1));

        Assert.Same(V2, Route(service, "/api/items", headers: ("x-canary", "yes")).Service);
        Assert.Same(V1, Route(service, "/api/items").Service); // only one condition of the block
        Assert.Same(V1, Route(service, "/shop", headers: ("x-canary", "yes")).Service);
        Assert.Same(V2, Route(service, "/shop", "PUT").Service); // the second block
    }

    [Theory]
    [InlineData("exact", "/api", "/api", true)]
    [InlineData("exact", "/api", "/api/", false)]
    [InlineData("exact", "/api", "/api?x=1", true)] // the query is not part of the path
    [InlineData("prefix", "/api", "/apis", true)]
    [InlineData("prefix", "/api", "/ap", false)]
    [InlineData("regex", "/api/[0-9]+", "/api/42", true)]
    [InlineData("regex", "/api/[0-9]+", "/api/42/x", false)] // full match, not a search
    [InlineData("regex", "/api/[0-9]+", "/v1/api/42", false)]
    [InlineData("regex", "/api/[0-9]+", "/api/42?q=a", true)]
    [InlineData("regex", "/api", "/api\n", false)] // no trailing newline slips through the anchor
    public void Route4_UriMatchesThePathWithoutQuery_RegexMatchesWhole(string kind, string value, string path, bool matches)
    {
        var service = Service(To(V2, new HttpRouteMatch { Uri = Match(kind, value) }));

        Assert.Equal(matches, !Route(service, path).IsNoRoute);
    }

    [Theory]
    [InlineData("exact", "/API", "/api", true)]
    [InlineData("prefix", "/Api", "/aPi/x", true)]
    [InlineData("regex", "/API", "/api", false)] // Istio: ignoreUriCase applies to exact and prefix only
    public void Route5_IgnoreUriCase_AppliesToExactAndPrefixOnly(string kind, string value, string path, bool matches)
    {
        var service = Service(To(V2, new HttpRouteMatch { Uri = Match(kind, value), IgnoreUriCase = true }));

        Assert.Equal(matches, !Route(service, path).IsNoRoute);
    }

    [Fact]
    public void Route6_HeaderNamesAreCaseInsensitive_ValuesCaseSensitive()
    {
        var service = Service(To(V2, new HttpRouteMatch { Headers = [Header("X-User", StringMatch.Exact("Jason"))] }));

        Assert.False(Route(service, headers: ("x-user", "Jason")).IsNoRoute);
        Assert.True(Route(service, headers: ("x-user", "jason")).IsNoRoute);
        Assert.True(Route(service).IsNoRoute); // absent
    }

    [Fact]
    public void Route7_AnEmptyHeaderMatch_AsksForPresence_AndWithoutHeadersInvertsIt()
    {
        var present = Service(To(V2, new HttpRouteMatch { Headers = [Header("x-debug", StringMatch.Present)] }));
        var without = Service(To(V2, new HttpRouteMatch { WithoutHeaders = [Header("x-debug", StringMatch.Present), Header("x-user", StringMatch.Prefix("bot"))] }));

        Assert.False(Route(present, headers: ("x-debug", "")).IsNoRoute);
        Assert.True(Route(present).IsNoRoute);
        Assert.False(Route(without, headers: ("x-user", "human")).IsNoRoute);
        Assert.True(Route(without, headers: ("x-debug", "1")).IsNoRoute);
        Assert.True(Route(without, headers: ("x-user", "bot-7")).IsNoRoute);
    }

    [Theory]
    [InlineData("/p?version=v2", true)]
    [InlineData("/p?a=1&version=v2&b", true)]
    [InlineData("/p?version=v22", false)]
    [InlineData("/p?xversion=v2", false)]
    [InlineData("/p?version=%76%32", true)] // matched on the decoded value
    [InlineData("/p", false)]
    public void Route8_QueryParams_ExactOrRegexOnTheDecodedValue(string path, bool matches)
    {
        var exact = Service(To(V2, new HttpRouteMatch { QueryParams = [Header("version", StringMatch.Exact("v2"))] }));
        var regex = Service(To(V2, new HttpRouteMatch { QueryParams = [Header("version", StringMatch.Regex("v[2]"))] }));

        Assert.Equal(matches, !Route(exact, path).IsNoRoute);
        Assert.Equal(matches, !Route(regex, path).IsNoRoute);
    }

    [Fact]
    public void Route9_MethodSchemeAuthorityAndPort_AreMatchedCaseSensitively()
    {
        var service = Service(To(V2, new HttpRouteMatch
        {
            Method = StringMatch.Exact("GET"),
            Scheme = StringMatch.Exact("http"),
            Authority = StringMatch.Prefix("helloworld"),
            Port = 8000,
        }));

        Assert.False(Route(service).IsNoRoute);
        Assert.True(Route(service, method: "get").IsNoRoute);
        Assert.True(service.Route(new RouteRequest("GET", "/", "helloworld", "https", 8000), new DictionaryHeaderSource(new Dictionary<string, string>())).IsNoRoute);
        Assert.True(service.Route(new RouteRequest("GET", "/", "HelloWorld", "http", 8000), new DictionaryHeaderSource(new Dictionary<string, string>())).IsNoRoute);
        Assert.True(service.Route(new RouteRequest("GET", "/", "helloworld", "http", 9000), new DictionaryHeaderSource(new Dictionary<string, string>())).IsNoRoute);
    }

    [Fact]
    public void Route10_NoRouteMatches_IsNoRoute_WithNoEndpoint()
    {
        var decision = Route(Service(To(V2, new HttpRouteMatch { Uri = StringMatch.Exact("/only") })), "/else");

        Assert.True(decision.IsNoRoute);
        Assert.False(decision.Resolution.HasEndpoint);
        Assert.Null(decision.Route);
        Assert.Null(decision.RouteLabel);
    }

    [Fact]
    public void Route11_WithoutRoutes_TheServiceResolvesItself()
    {
        var decision = Route(All, "/whatever");

        Assert.False(decision.IsNoRoute);
        Assert.Same(All, decision.Service);
        Assert.Null(decision.Destination);
        Assert.Equal(ResolutionOutcome.Matched, decision.Resolution.Outcome);
        Assert.Null(decision.Resolution.Subset); // no dynamicSubset: any routable endpoint
    }

    [Fact]
    public void Route12_WeightsSplitTraffic_90To10_Within2Percent()
    {
        var service = Service(new HttpRouteRule([new RouteDestination("helloworld", "v1", V1, 90), new RouteDestination("helloworld", "v2", V2, 10)]));

        var toV2 = Enumerable.Range(0, 10_000).Count(_ => Route(service).Service == V2);

        Assert.InRange(toV2, 800, 1200);
    }

    [Fact]
    public void Route13_Weights_FollowIstiosValidation()
    {
        // One destination needs no weight; several need some weight, and none may be negative.
        Assert.Single(new HttpRouteRule([new RouteDestination("h", null, V1)]).Destinations);
        var zero = Assert.Throws<RoutingValidationException>(() => new HttpRouteRule([new RouteDestination("h", null, V1), new RouteDestination("h", null, V2)]));
        Assert.Equal("route", zero.FieldPath);
        Assert.Equal("weight", Assert.Throws<RoutingValidationException>(() => new RouteDestination("h", null, V1, -1)).FieldPath);
        Assert.Equal("weight", Assert.Throws<RoutingValidationException>(() => new RouteDestination("h", null, V1, uint.MaxValue + 1L)).FieldPath);

        // A zero weight beside others never gets traffic.
        var service = Service(new HttpRouteRule([new RouteDestination("h", null, V1, 0), new RouteDestination("h", null, V2, 1)]));
        Assert.All(Enumerable.Range(0, 200), _ => Assert.Same(V2, Route(service).Service));
    }

    [Fact]
    public void Route14_Regexes_AreRE2Style_CompiledOnce_AndCheckedOnCreation()
    {
        var error = Assert.Throws<RoutingValidationException>(() => StringMatch.Regex("(a"));
        Assert.Equal("regex", error.FieldPath);
        Assert.Equal("regex: '(a' is not a valid regular expression: Invalid pattern '(a' at offset 2. Not enough )'s.", error.Message); // offsets into the pattern as written

        // RE2 syntax that .NET would read differently, or refuse obscurely, is refused plainly.
        Assert.Contains("POSIX class", Assert.Throws<RoutingValidationException>(() => StringMatch.Regex("[[:alpha:]]+")).Reason, StringComparison.Ordinal);
        Assert.Contains("write (?<name>...)", Assert.Throws<RoutingValidationException>(() => StringMatch.Regex("(?P<v>v1)")).Reason, StringComparison.Ordinal);

        // Backreferences and lookarounds are not RE2, and NonBacktracking refuses them too.
        Assert.Throws<RoutingValidationException>(() => StringMatch.Regex("(a)\\1"));
        Assert.Throws<RoutingValidationException>(() => StringMatch.Regex("(?=a)a"));
        Assert.Throws<RoutingValidationException>(() => StringMatch.Exact(new string('a', StringMatch.MaxPatternLength + 1)));
    }

    [Theory]
    [InlineData("tenant-0[a-z]*", "tenant-0")]
    [InlineData("/api/[0-9]+", "/api/")]
    [InlineData("abc", "abc")]
    [InlineData("ab*", "a")]
    [InlineData("ab?c", "a")]
    [InlineData("a{2}", null)]
    [InlineData("x.y", "x")]
    [InlineData("a|b", null)]
    [InlineData("(ab)c", null)]
    [InlineData("^ab", null)]
    [InlineData("\\d+", null)]
    public void Route14_ARegexsLiteralPrefix_RejectsEarly_WithoutChangingAnswers(string pattern, string? prefix)
    {
        Assert.Equal(prefix, StringMatch.LiteralPrefix(pattern));
        var regex = StringMatch.Regex(pattern);
        foreach (var input in new[] { "tenant-0", "tenant-0ab", "/api/42", "abc", "a", "abbb", "ac", "aa", "xzy", "b", "abc\n", "5", "tenant-x" })
        {
            Assert.Equal(System.Text.RegularExpressions.Regex.IsMatch(input, $"^(?:{pattern})\\z"), regex.IsMatch(input));
        }
    }

    [Fact]
    public void Route15_AValueLongerThanTheBound_NeverMatches()
    {
        var service = Service(To(V2, new HttpRouteMatch { Headers = [Header("x-long", StringMatch.Regex("a*"))] }));

        Assert.False(Route(service, headers: ("x-long", new string('a', 100))).IsNoRoute);
        Assert.True(Route(service, headers: ("x-long", new string('a', StringMatch.MaxInputLength + 1))).IsNoRoute);
    }

    [Fact]
    public void Route16_TheRoutesDestination_ResolvesWithItsPoolsDynamicSubsets()
    {
        // A route to v3 whose pool keeps the page's dynamic subsets: x-stage picks dev or prod inside v3.
        var pool = Pool("helloworld/v3", Topology.Helloworld.Where(e => e.Labels["version"] == "v3"), Topology.StageVersion());
        var service = Service(To(pool, new HttpRouteMatch { Uri = StringMatch.Prefix("/v3") }));

        var dev = Route(service, "/v3", headers: ("x-stage", "dev"));
        Assert.Equal("stage=dev, version=v3", dev.Resolution.Subset!.ToString());
        Assert.Equal("192.168.0.252:5678", dev.Resolution.Endpoint!.Authority);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, Route(service, "/v3", headers: ("x-version", "v1")).Resolution.Outcome);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(70)] // more than 64 blocks: a candidate mask of two words
    [InlineData(300)]
    public void ManyRoutesOfExactHeaderValues_TheFirstThatMatchesWins(int count)
    {
        var routes = Enumerable.Range(0, count).Select(i => To(i % 2 == 0 ? V1 : V2, new HttpRouteMatch
        {
            Headers = [Header("x-tenant", StringMatch.Exact($"t{i / 2}"))], // every value twice: the first of the two must win
            Uri = i % 3 == 0 ? StringMatch.Exact("/exact") : null,
        })).Append(To(V3)).ToArray();
        var service = Service(routes);

        for (var i = 0; i < count; i++)
        {
            var path = i % 3 == 0 ? "/exact" : "/other";
            var expected = Enumerable.Range(0, count).First(j => j / 2 == i / 2 && (j % 3 != 0 || path == "/exact"));
            Assert.Equal(expected, Route(service, path, headers: ("x-tenant", $"t{i / 2}")).RouteIndex);
        }

        Assert.Equal(count, Route(service, "/", headers: ("x-tenant", "nobody")).RouteIndex);
        Assert.Equal(count, Route(service).RouteIndex);
    }

    [Fact]
    public void ExplainRoutes_SaysWhichRouteMatched_AndTheFirstFailingConditionOfEachEarlierOne()
    {
        var service = new RoutedService("helloworld", All.Resolver)
        {
            Routes =
            [
                To(V1, new HttpRouteMatch { Uri = StringMatch.Prefix("/admin"), Method = StringMatch.Exact("POST") }) is var admin ? new HttpRouteRule(admin.Destinations, admin.Matches) { Name = "admin" } : null!,
                To(V2, new HttpRouteMatch { Headers = [Header("x-canary", StringMatch.Exact("yes"))] }, new HttpRouteMatch { Name = "beta", QueryParams = [Header("beta", StringMatch.Exact("1"))] }),
                To(V3, new HttpRouteMatch { Method = StringMatch.Exact("GET") }),
                To(V1),
            ],
        };

        var checks = service.ExplainRoutes(new RouteRequest("GET", "/shop?beta=0"), new DictionaryHeaderSource(new Dictionary<string, string> { ["x-canary"] = "no" }));

        Assert.Equal(
            [
                new RouteCheck("admin", false, "uri prefix '/admin' does not match '/shop'"),
                new RouteCheck("1", false, "match[0]: header x-canary does not match exact 'yes'; match[1] (beta): query parameter beta does not match exact '1'"),
                new RouteCheck("2", true, "match[0] holds: method exact 'GET'"),
            ],
            checks);
    }

    [Fact]
    public void Routes_MayNotHoldNull()
    {
        var error = Assert.Throws<RoutingValidationException>(() => new RoutedService("x", All.Resolver) { Routes = [null!] });
        Assert.Equal("http[0]", error.FieldPath);
        // A route without destinations is only valid when it answers itself; the service checks it.
        Assert.Equal("http[0]", Assert.Throws<RoutingValidationException>(() => new RoutedService("x", All.Resolver) { Routes = [new HttpRouteRule([])] }).FieldPath);
        Assert.Equal("http[0]", Assert.Throws<RoutingValidationException>(() => new RoutedService("x", All.Resolver)
        {
            Routes = [new HttpRouteRule([new RouteDestination("h", null, V1)]) { DirectResponse = new HttpDirectResponse(200) }],
        }).FieldPath);
        Assert.Single(new RoutedService("x", All.Resolver) { Routes = [new HttpRouteRule([]) { Redirect = new HttpRedirect() }] }.Routes);
        Assert.Equal("timeout", Assert.Throws<RoutingValidationException>(() => new HttpRouteRule([new RouteDestination("h", null, V1)]) { Timeout = TimeSpan.Zero }).FieldPath);
        Assert.Equal(Timeout.InfiniteTimeSpan, new HttpRouteRule([new RouteDestination("h", null, V1)]) { Timeout = Timeout.InfiniteTimeSpan }.Timeout); // Istio's timeout: 0s
    }

    internal static StringMatch Match(string kind, string value) => kind switch
    {
        "exact" => StringMatch.Exact(value),
        "prefix" => StringMatch.Prefix(value),
        _ => StringMatch.Regex(value),
    };
}
