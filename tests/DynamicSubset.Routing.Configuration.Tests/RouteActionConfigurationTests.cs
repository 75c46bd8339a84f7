namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>Istio's route actions as read from YAML: compiled onto the route, and bad values are positioned errors.</summary>
public class RouteActionConfigurationTests
{
    [Theory]
    [InlineData("match: [{uri: {regex: /a.*}}]\n      rewrite: {uri: /b}", "DSR1005", "test.yaml:8:22: spec.http[0].rewrite.uri: cannot rewrite the path of spec.http[0].match[0], a regex match: use rewrite.uriRegexRewrite")]
    [InlineData("fault: {abort: {httpStatus: 503, percentage: {value: 120}}}", "DSR1005", "test.yaml:7:60: spec.http[0].fault.abort.percentage.value: 120 is not a percentage from 0 to 100")]
    [InlineData("fault: {delay: {fixedDelay: 1s, percentage: {value: -1}}}", "DSR1005", "spec.http[0].fault.delay.percentage.value: -1 is not a percentage from 0 to 100")]
    [InlineData("fault: {abort: {grpcStatus: SOMETIMES}}", "DSR1005", "spec.http[0].fault.abort.grpcStatus: unknown gRPC status 'SOMETIMES'")]
    [InlineData("redirect: {uri: /x, redirectCode: 200}", "DSR1005", "spec.http[0].redirect.redirectCode: 200 is not a redirect status (expected 301, 302, 303, 307 or 308)")]
    [InlineData("corsPolicy: {allowOrigins: [{regex: 'https://(.example'}]}", "DSR1005", "spec.http[0].corsPolicy.allowOrigins[0].regex: ")]
    [InlineData("rewrite: {uriRegexRewrite: {match: '(', rewrite: /x}}", "DSR1005", "spec.http[0].rewrite.uriRegexRewrite.match: '(' is not a regular expression")]
    [InlineData("mirrorPercentage: {value: 101}\n      mirror: {host: helloworld}", "DSR1005", "spec.http[0].mirrorPercentage.value: 101 is not a percentage from 0 to 100")]
    [InlineData("directResponse: {status: 99}", "DSR1005", "spec.http[0].directResponse.status: 99 is not a status from 200 to 599")]
    public void BadActions_ArePositionedErrors(string fields, string code, string expected)
    {
        var config = OneRoute(fields);

        Assert.True(config.HasErrors);
        Assert.Contains(config.Diagnostics, d => d.Code == code && (d.ToString().StartsWith(expected, StringComparison.Ordinal) || $"{d.Path}: {d.Message}".StartsWith(expected, StringComparison.Ordinal)));
    }

    [Fact]
    public void AUriRegexRewrite_IsBoundLikeEveryRegex()
    {
        var config = OneRoute($"rewrite: {{uriRegexRewrite: {{match: '{new string('a', 1100)}', rewrite: /x}}}}");

        Assert.Contains(config.Diagnostics, d => d.Code == "DSR1005" && d.Path == "spec.http[0].rewrite.uriRegexRewrite.match" && d.Message == "is 1100 characters long; at most 1024 are allowed");
    }

    [Fact]
    public void ARouteWithARedirect_AndADestination_IsAnError()
    {
        var config = Fixtures.Parse("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: helloworld}
            spec:
              hosts: [helloworld]
              http:
                - redirect: {uri: /x}
                  route: [{destination: {host: helloworld}}]
            """);

        Assert.Contains(config.Diagnostics, d => d.Code == "DSR1005" && d.Message == "a route takes one of route, redirect and directResponse, not redirect and route");
    }

    [Fact]
    public void EveryAction_IsCompiledOntoTheRoute()
    {
        var config = OneRoute("""
            rewrite: {uri: /v2/, authority: inner}
                  headers: {request: {set: {a: b}}, response: {remove: [server]}}
                  fault: {delay: {fixedDelay: 2s, percentage: {value: 10}}, abort: {grpcStatus: UNAVAILABLE, percentage: {value: 5.5}}}
                  mirrors: [{destination: {host: helloworld}, percentage: {value: 25}}]
                  corsPolicy: {allowOrigins: [{prefix: "https://"}], maxAge: 10m}
            """.Replace("\r", "", StringComparison.Ordinal));

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        var route = Assert.Single(config.Find("helloworld").Routes);
        Assert.Equal(("/v2/", "inner"), (route.Rewrite!.Uri, route.Rewrite.Authority));
        Assert.Equal([new KeyValuePair<string, string>("a", "b")], route.Headers!.Request!.Set);
        Assert.Equal(["server"], route.Headers.Response!.Remove);
        Assert.Equal((TimeSpan.FromSeconds(2), 10.0, 14, 5.5), (route.Fault!.Delay, route.Fault.DelayPercentage, route.Fault.AbortGrpcStatus!.Value, route.Fault.AbortPercentage));
        Assert.Equal(25, Assert.Single(route.Mirrors).Percentage);
        Assert.Equal(TimeSpan.FromMinutes(10), route.CorsPolicy!.MaxAge);
        Assert.True(route.CorsPolicy.Allows("https://anything"));
        Assert.False(route.CorsPolicy.Allows("http://plain"));
        Assert.True(route.HasActions);
    }

    [Fact]
    public void ConnectionPoolLimits_AreCompiledOntoThePool()
    {
        var config = Fixtures.Parse("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: helloworld}
            spec:
              host: helloworld
              trafficPolicy:
                connectionPool:
                  tcp: {maxConnections: 2}
                  http: {http1MaxPendingRequests: 1, http2MaxRequests: 50}
            """);

        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.DoesNotContain(config.Diagnostics, d => d.Code == "DSR2001");
        var limits = Assert.Single(config.Services).ConnectionPool!;
        Assert.Equal(new ConnectionPoolPolicy { MaxConnections = 2, MaxPendingRequests = 1, Http2MaxRequests = 50 }, limits);
        Assert.Equal((2, 50), (limits.MaxActive(UpstreamProtocol.Http1), limits.MaxActive(UpstreamProtocol.Http2)));
    }

    [Fact]
    public void PortLevelSettings_ReplaceTheRulesFields_ForTheirPortOnly()
    {
        string Mesh(int port) => $$$"""
            apiVersion: v1
            kind: Service
            metadata: {name: helloworld, namespace: default}
            spec: {selector: {app: helloworld}, ports: [{name: http, port: {{{port}}}, targetPort: 5678}]}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: helloworld, namespace: default}
            spec:
              host: helloworld
              trafficPolicy:
                loadBalancer: {simple: ROUND_ROBIN}
                connectionPool: {tcp: {maxConnections: 100}}
                portLevelSettings:
                  - port: {number: 8000}
                    loadBalancer: {simple: RANDOM}
                    connectionPool: {tcp: {maxConnections: 5}}
            """;

        var onPort = Fixtures.Parse(Mesh(8000));
        Assert.False(onPort.HasErrors, string.Join("\n", onPort.Diagnostics));
        Assert.DoesNotContain(onPort.Diagnostics, d => d.Code == "DSR2001");
        var service = Assert.Single(onPort.Services);
        Assert.Equal((LoadBalancingPolicy.Random, 5), (service.Policy.LoadBalancing, service.ConnectionPool!.MaxConnections!.Value));

        var otherPort = Assert.Single(Fixtures.Parse(Mesh(9000)).Services);
        Assert.Equal((LoadBalancingPolicy.RoundRobin, 100), (otherPort.Policy.LoadBalancing, otherPort.ConnectionPool!.MaxConnections!.Value));
    }

    [Fact]
    public void PortLevelSettings_WithoutAPort_OrTwiceForOne_AreErrors()
    {
        var config = Fixtures.Parse("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: helloworld}
            spec:
              host: helloworld
              trafficPolicy:
                portLevelSettings:
                  - loadBalancer: {simple: RANDOM}
                  - {port: {number: 80}, loadBalancer: {simple: RANDOM}}
                  - {port: {number: 80}, loadBalancer: {simple: ROUND_ROBIN}}
            """);

        Assert.Contains(config.Diagnostics, d => d.Path == "spec.trafficPolicy.portLevelSettings[0].port" && d.Code == "DSR1003");
        Assert.Contains(config.Diagnostics, d => d.Path == "spec.trafficPolicy.portLevelSettings[2].port.number" && d.Message == "port 80 already has settings");
    }

    private static MeshConfiguration OneRoute(string fields) => Fixtures.Parse($$$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: helloworld}
        spec:
          hosts: [helloworld]
          http:
            - {{{fields}}}
              route: [{destination: {host: helloworld}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: helloworld}
        spec: {host: helloworld}
        """);
}
