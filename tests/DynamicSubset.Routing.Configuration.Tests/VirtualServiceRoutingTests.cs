namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>VirtualService routes read from YAML: matches, weights, static subsets, consistent hashing, retries, timeouts.</summary>
public class VirtualServiceRoutingTests
{
    private const string Rule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: helloworld}
        spec:
          host: helloworld
          trafficPolicy:
            loadBalancer:
              simple: ROUND_ROBIN
          subsets:
            - name: v1
              labels: {version: v1}
            - name: v3
              labels: {version: v3}
              trafficPolicy:
                loadBalancer:
                  dynamicSubset:
                    subsetSelectors:
                      - keys: [stage]
            - name: sticky
              labels: {stage: prod}
              trafficPolicy:
                loadBalancer:
                  consistentHash:
                    httpHeaderName: x-user
                    maglev: {tableSize: 1021}
        ---
        """;

    private const string Routes = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: helloworld}
        spec:
          hosts: [helloworld]
          http:
            - name: admin
              match:
                - uri: {prefix: /admin}
                  method: {exact: POST}
              route:
                - destination: {host: helloworld, subset: v1}
              retries: {attempts: 3, perTryTimeout: 250ms, retryOn: "5xx,reset,409"}
              timeout: 2s
            - name: beta
              match:
                - headers:
                    x-canary: {regex: "yes|true"}
                - queryParams:
                    beta: {exact: "1"}
              headerToDynamicSubsetKey:
                - header: x-stage
                  key: stage
                  defaultValue: prod
              route:
                - destination: {host: helloworld, subset: v3}
            - name: sticky
              match:
                - uri: {exact: /cart}
              route:
                - destination: {host: helloworld, subset: sticky}
            - route:
                - destination: {host: helloworld, subset: v1}
                  weight: 90
                - destination: {host: helloworld, subset: v3}
                  weight: 10
        """;

    private static MeshConfiguration Config(string rule = Rule, string routes = Routes) => MeshConfiguration.Parse(
    [
        new("pods.yaml", File.ReadAllText(Fixtures.Path("pods.yaml"))),
        new("svc.yaml", File.ReadAllText(Fixtures.Reference("service.yaml"))),
        new("mesh.yaml", rule + "\n" + routes),
    ]);

    private static RouteDecision Route(RoutedService service, string method, string path, params (string, string)[] headers) =>
        service.Route(new RouteRequest(method, path), new DictionaryHeaderSource(Fixtures.Headers(headers)));

    [Fact]
    public void Routes_AreCompiled_WithEachStaticSubsetAsItsOwnPool()
    {
        var config = Config();

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.Equal(
            [
                "helloworld.default.svc.cluster.local", "helloworld.default.svc.cluster.local/v1", "helloworld.default.svc.cluster.local/v3",
                "helloworld.default.svc.cluster.local/sticky",
                "helloworld.default.svc.cluster.local/v3 via helloworld.http[3]", // the last route maps no header: its own pool of v3
            ],
            config.Services.Select(s => s.Host));
        var v3 = config.Services.Single(s => s.Host == "helloworld.default.svc.cluster.local/v3");
        Assert.Equal(["192.168.0.104", "192.168.0.252", "192.168.0.6"], v3.Endpoints.Select(e => e.AddressText).Order(StringComparer.Ordinal));
        Assert.Equal(["stage"], Assert.Single(v3.Policy.DynamicSubset.SubsetSelectors).Keys); // the subset's loadBalancer replaces the rule's
        Assert.Equal(LoadBalancingPolicy.LeastRequest, v3.Policy.LoadBalancing);
        Assert.Equal(["x-stage -> stage (default prod)"], v3.Policy.HeaderMappings.Select(m => m.ToString()));
        var v1 = config.Services.Single(s => s.Subset == "v1");
        Assert.Equal(LoadBalancingPolicy.RoundRobin, v1.Policy.LoadBalancing); // the rule's, where the subset sets none
        Assert.Same(DynamicSubsetPolicy.None, v1.Policy.DynamicSubset);
        Assert.Equal("httpHeaderName x-user (maglev 1021)", config.Services.Single(s => s.Subset == "sticky").Policy.ConsistentHash!.ToString());
        Assert.True(config.Services[0].HasRoutes);
    }

    [Fact]
    public void Requests_RouteAsTheMeshWould()
    {
        using var catalog = Config().CreateCatalog();
        Assert.True(catalog.Current.TryFind("helloworld", out var service));

        var admin = Route(service, "POST", "/admin/users");
        Assert.Equal(("admin", "v1"), (admin.RouteLabel, admin.Destination!.Subset));
        Assert.Equal("192.168.0.5:5678", admin.Resolution.Endpoint!.Authority);
        Assert.Equal(TimeSpan.FromSeconds(2), admin.Route!.Timeout);
        Assert.Equal("3 attempts on ServerError, Reset, RetriableStatusCodes, 0.25 s per try", admin.Route.Retries!.ToString());
        Assert.True(admin.Route.Retries.RetriesStatus(409));

        var beta = Route(service, "GET", "/?beta=1", ("x-stage", "dev"));
        Assert.Equal(("beta", "stage=dev"), (beta.RouteLabel, beta.Resolution.Subset!.ToString()));
        Assert.Equal("192.168.0.252:5678", beta.Resolution.Endpoint!.Authority);
        Assert.Equal("stage=prod", Route(service, "GET", "/", ("x-canary", "true")).Resolution.Subset!.ToString());

        var cart = Enumerable.Range(0, 20).Select(_ => Route(service, "GET", "/cart", ("x-user", "jason")).Resolution.Endpoint!.Authority).Distinct();
        Assert.Single(cart);

        var rest = Enumerable.Range(0, 2000).Select(_ => Route(service, "GET", "/", ("x-canary", "no"))).ToList();
        Assert.All(rest, d => Assert.Equal("3", d.RouteLabel));
        Assert.InRange(rest.Count(d => d.Destination!.Subset == "v3"), 100, 320); // 10% of 2,000, widely
    }

    [Fact]
    public void AHostWithoutDestinationRule_RoutesToEveryEndpoint()
    {
        var config = MeshConfiguration.Parse(
        [
            new("pods.yaml", File.ReadAllText(Fixtures.Path("pods.yaml"))),
            new("svc.yaml", File.ReadAllText(Fixtures.Reference("service.yaml"))),
            new("vs.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: helloworld}
                spec:
                  hosts: [helloworld]
                  http:
                    - route:
                        - destination: {host: helloworld}
                """),
        ]);
        using var catalog = config.CreateCatalog();

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        var service = Assert.Single(catalog.Current.Services);
        var reached = Enumerable.Range(0, 300).Select(_ => Route(service, "GET", "/").Resolution.Endpoint!.Authority).Distinct().Count();
        Assert.Equal(config.Services[0].Endpoints.Count(e => e.IsHealthy), reached);
        Assert.True(reached >= 5);
    }

    [Fact]
    public void AGatewayHost_GetsItsOwnEntry_RoutingToTheService()
    {
        var config = Config(routes: Routes.Replace("hosts: [helloworld]", "hosts: [hello.example.com, helloworld]", StringComparison.Ordinal));
        using var catalog = config.CreateCatalog();

        Assert.True(catalog.Current.TryFind("hello.example.com", out var entry));
        Assert.Same(entry, catalog.Current.TryFind("helloworld", out var same) ? same : null);
        Assert.Equal("admin", Route(entry, "POST", "/admin").RouteLabel);
    }

    [Fact]
    public void ARouteToAnUndefinedSubset_IsWarned_AndGetsNoHealthyUpstream()
    {
        var config = Config(routes: Routes.Replace("subset: sticky}", "subset: stiky}", StringComparison.Ordinal));
        using var catalog = config.CreateCatalog();

        var warning = Assert.Single(config.Diagnostics, d => d.Code == "DSR2013");
        Assert.Equal("mesh.yaml:57:51: spec.http[2].route[0].destination.subset: DestinationRule default/helloworld has no subset 'stiky'; requests routed here get no healthy upstream", warning.ToString());
        catalog.Current.TryFind("helloworld", out var service);
        Assert.Equal(ResolutionOutcome.NoHealthyUpstream, Route(service!, "GET", "/cart").Resolution.Outcome);
    }

    [Fact]
    public void ARouteAfterACatchAll_IsWarnedAsUnreachable()
    {
        var config = Config(routes: Routes + """

                - name: never
                  route:
                    - destination: {host: helloworld}
            """);

        Assert.Equal(["mesh.yaml:63:7: spec.http[4]: never reached: http[3] before it has no match conditions and takes every request"],
            config.Diagnostics.Where(d => d.Code == "DSR2014").Select(d => d.ToString()));
    }

    [Theory]
    [InlineData("uri: {prefix: /a, exact: /a}", "spec.http[0].match[0].uri: only one of exact, prefix may be set")]
    [InlineData("uri: {regex: '(a'}", "spec.http[0].match[0].uri.regex: '(a' is not a valid regular expression")]
    [InlineData("queryParams: {q: {prefix: a}}", "spec.http[0].match[0].queryParams.q.prefix: supported by Istio but not by DynamicSubset.Routing; ignored")]
    [InlineData("port: 70000", "spec.http[0].match[0].port: ")]
    [InlineData("gateways: [mesh]", "spec.http[0].match[0].gateways: supported by Istio but not by DynamicSubset.Routing; ignored")]
    [InlineData("urii: {exact: /}", "spec.http[0].match[0].urii: unknown field")]
    public void BadMatches_AreReportedWithTheirPath(string match, string expected)
    {
        var config = OneRoute($"match: [{{{match}}}]");

        Assert.Contains(config.Diagnostics, d => $"{d.Path}: {d.Message}".StartsWith(expected, StringComparison.Ordinal));
        Assert.All(config.Diagnostics.Where(d => d.Path.StartsWith("spec.http[0].match", StringComparison.Ordinal)), d => Assert.Equal(7, d.Line));
    }

    [Theory]
    [InlineData("retries: {attempts: 2, retryOn: '5xx,bogus'}", "DSR1004", "spec.http[0].retries.retryOn: 'bogus' is not a retry condition")]
    [InlineData("retries: {attempts: -1}", "DSR1005", "spec.http[0].retries.attempts: ")]
    [InlineData("retries: {attempts: 2, perTryTimeout: soon}", "DSR1005", "spec.http[0].retries.perTryTimeout: 'soon' is not a duration")]
    [InlineData("retries: {attempts: 2, retryOn: 'refused-stream'}", "DSR2001", "spec.http[0].retries.retryOn: 'refused-stream' is not supported by DynamicSubset.Routing; ignored")]
    [InlineData("timeout: forever", "DSR1005", "spec.http[0].timeout: 'forever' is not a duration of 0 or at least 1ms")]
    public void BadRetriesAndTimeouts_AreReportedWithTheirPath(string field, string code, string expected)
    {
        var config = OneRoute(field);

        Assert.Contains(config.Diagnostics, d => d.Code == code && $"{d.Path}: {d.Message}".StartsWith(expected, StringComparison.Ordinal));
    }

    /// <summary>A VirtualService of one route to helloworld, with <paramref name="fields"/> (one line) before its destination.</summary>
    private static MeshConfiguration OneRoute(string fields) => Fixtures.Parse($$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: helloworld}
        spec:
          hosts: [helloworld]
          http:
            - {{fields}}
              route:
                - destination: {host: helloworld}
        """);

    [Theory]
    [InlineData("consistentHash: {}", "spec.trafficPolicy.loadBalancer.consistentHash: one of httpHeaderName, httpCookie, httpQueryParameterName, useSourceIp is needed")]
    [InlineData("consistentHash: {httpHeaderName: a, useSourceIp: true}", "spec.trafficPolicy.loadBalancer.consistentHash: only one of httpHeaderName, useSourceIp may be set")]
    [InlineData("consistentHash: {useSourceIp: true, maglev: {tableSize: 1000}}", "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: 1000 is not a prime")]
    [InlineData("consistentHash: {httpCookie: {name: 'a;b', ttl: 0s}}", "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name: 'a;b' is not a cookie name")]
    [InlineData("{simple: RANDOM, consistentHash: {useSourceIp: true}}", "spec.trafficPolicy.loadBalancer.simple: loadBalancer takes simple or consistentHash, not both")]
    public void BadConsistentHash_IsReportedWithItsPath(string loadBalancer, string expected)
    {
        var lb = loadBalancer.StartsWith('{') ? $"loadBalancer: {loadBalancer}" : $"loadBalancer:\n      {loadBalancer}";
        var config = Fixtures.Parse($"""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {"{"}name: helloworld{"}"}
            spec:
              host: helloworld
              trafficPolicy:
                {lb}
            """);

        Assert.True(config.HasErrors);
        Assert.Contains(config.Diagnostics, d => $"{d.Path}: {d.Message}".StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void TimeoutZero_WhichThrewWhenTheCatalogWasBuilt_MeansNoBound()
    {
        // Found by the fuzz corpus's route file: 0s became an infinite timeout that the route then refused.
        var config = OneRoute("timeout: 0s");
        using var catalog = config.CreateCatalog();

        Assert.True(catalog.Current.TryFind("helloworld", out var service));
        Assert.Equal(Timeout.InfiniteTimeSpan, service.Routes[0].Timeout);
    }

    [Theory]
    [InlineData("route: []", "test.yaml:8:14: spec.http[0].route: required field is missing: a route needs at least one destination")]
    [InlineData("name: empty", "test.yaml:7:7: spec.http[0].route: required field is missing: a route needs at least one destination")]
    public void ARouteWithoutDestination_IsAnError(string field, string expected)
    {
        // An empty list was accepted and the route dropped without a word.
        var config = Fixtures.Parse($$$"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: helloworld}
            spec:
              hosts: [helloworld]
              http:
                - match: [{uri: {prefix: /a}}]
                  {{{field}}}
            """);

        Assert.Equal([expected], config.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
    }

    [Fact]
    public void SeveralDestinationsWithoutWeights_AreAnError()
    {
        var config = Fixtures.Parse("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: helloworld}
            spec:
              hosts: [helloworld]
              http:
                - route:
                    - destination: {host: helloworld, subset: a}
                    - destination: {host: helloworld, subset: b}
            """);

        Assert.Equal(["test.yaml:8:9: spec.http[0].route: 2 destinations and no weight: give each destination a weight (Istio: they are relative)"],
            config.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
    }

    [Fact]
    public void RoutesWithDifferentHeaderMappings_ToOnePool_GetAPoolEach()
    {
        var config = Config(rule: Rule.Replace("simple: ROUND_ROBIN", "dynamicSubset: {subsetSelectors: [{keys: [stage]}]}", StringComparison.Ordinal), routes: """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: helloworld}
            spec:
              hosts: [helloworld]
              http:
                - match: [{headers: {x-team: {exact: a}}}]
                  headerToDynamicSubsetKey: [{header: x-env, key: stage}]
                  route: [{destination: {host: helloworld}}]
                - headerToDynamicSubsetKey: [{header: x-stage, key: stage}]
                  route: [{destination: {host: helloworld}}]
            """);
        using var catalog = config.CreateCatalog();
        catalog.Current.TryFind("helloworld", out var service);

        Assert.Equal("stage=dev", Route(service!, "GET", "/", ("x-team", "a"), ("x-env", "dev"), ("x-stage", "prod")).Resolution.Subset!.ToString());
        Assert.Equal("stage=prod", Route(service!, "GET", "/", ("x-env", "dev"), ("x-stage", "prod")).Resolution.Subset!.ToString());
    }
}
