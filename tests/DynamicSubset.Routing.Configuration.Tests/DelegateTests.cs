namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>Istio's VirtualService delegation: a root's route takes in a host-less VirtualService's routes, matches merged.</summary>
public class DelegateTests
{
    private const string Mesh = """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec: {selector: {app: reviews}, ports: [{name: http, port: 80, targetPort: 9080}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: reviews-v1, namespace: default, labels: {app: reviews, version: v1}}
        status: {podIP: 10.0.0.1, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: reviews-v2, namespace: default, labels: {app: reviews, version: v2}}
        status: {podIP: 10.0.0.2, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: root, namespace: default}
        spec:
          hosts: [reviews]
          http:
            - match: [{uri: {prefix: /reviews}}]
              timeout: 5s
              delegate: {name: reviews-routes}
            - route: [{destination: {host: reviews, subset: v1}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews-routes, namespace: default}
        spec:
          http:
            - name: v2-users
              match: [{uri: {prefix: /reviews/v2}, headers: {end-user: {exact: jason}}}]
              route: [{destination: {host: reviews, subset: v2}}]
            - name: elsewhere
              match: [{uri: {prefix: /ratings}}]
              route: [{destination: {host: reviews, subset: v2}}]
            - name: rest
              route: [{destination: {host: reviews, subset: v1}}]
        """;

    [Fact]
    public void ADelegatesRoutes_TakeTheRootsMatch_AndItsUnsetFields()
    {
        var config = Fixtures.Parse(Mesh);
        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.DoesNotContain(config.Diagnostics, d => d.Code is "DSR2001" or "DSR2016" or "DSR2017");

        var reviews = config.Find("reviews");

        // The delegate's 'elsewhere' route (/ratings) is not within the root's /reviews: dropped, as Istio drops it.
        Assert.Equal(["v2-users", "rest", "1"], reviews.Routes.Select(static r => r.Name));
        Assert.Equal(TimeSpan.FromSeconds(5), reviews.Routes[0].Timeout); // the root's timeout, where the delegate sets none

        Assert.Equal("v2", Route(reviews, "/reviews/v2/1", ("end-user", "jason")));
        Assert.Equal("v1", Route(reviews, "/reviews/v2/1"));
        Assert.Equal("v1", Route(reviews, "/ratings")); // the root's second route
        Assert.Equal("v1", Route(reviews, "/reviews/1"));
    }

    [Fact]
    public void AMissingDelegate_AndAnUnusedOne_AreWarned()
    {
        var config = Fixtures.Parse(Mesh.Replace("delegate: {name: reviews-routes}", "delegate: {name: nothing}", StringComparison.Ordinal));

        Assert.Contains(config.Diagnostics, d => d.Code == "DSR2017" && d.Message.StartsWith("no VirtualService default/nothing without hosts", StringComparison.Ordinal));
        Assert.Contains(config.Diagnostics, d => d.Code == "DSR2016" && d.Message.Contains("default/reviews-routes has no hosts", StringComparison.Ordinal));
    }

    private static string Route(RoutedService service, string path, params (string Name, string Value)[] headers)
    {
        var decision = service.Route(new RouteRequest("GET", path), new DictionaryHeaderSource(headers.ToDictionary(static h => h.Name, static h => h.Value)));
        return decision.Destination!.Subset!;
    }
}
