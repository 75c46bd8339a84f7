using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>VirtualService routes, static subsets and consistent hashing bound from appsettings-style JSON, on a real file that reloads.</summary>
public sealed class OptionsRouteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-options-routes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Settings(string adminPrefix = "/admin", string canaryWeight = "10", string extra = "") => $$"""
        {
          "Routing": {
            "helloworld": {
              "host": "helloworld",
              "trafficPolicy": { "loadBalancer": { "dynamicSubset": { "subsetSelectors": [ { "keys": [ "stage" ] } ], "fallbackPolicy": "ANY_ENDPOINT" } } },
              "headerToDynamicSubsetKey": [ { "header": "x-stage", "key": "stage" } ],
              "subsets": [
                { "name": "v1", "labels": { "version": "v1" } },
                { "name": "v2", "labels": { "version": "v2" },
                  "trafficPolicy": { "loadBalancer": { "consistentHash": { "httpHeaderName": "x-user", "maglev": { "tableSize": 1021 } } } } }
              ],
              "http": [
                { "name": "admin", "match": [ { "uri": { "prefix": "{{adminPrefix}}" }, "method": { "exact": "POST" } } ],
                  "route": [ { "destination": { "subset": "v1" } } ],
                  "retries": { "attempts": 3, "perTryTimeout": "250ms", "retryOn": "5xx,409" }, "timeout": "2s" },
                { "name": "canary", "match": [ { "headers": { "x-canary": {} } } ],
                  "route": [ { "destination": { "subset": "v1" }, "weight": 90 }, { "destination": { "subset": "v2" }, "weight": {{canaryWeight}} } ] },
                { "route": [ { "destination": { "host": "helloworld" } } ] }{{extra}}
              ],
              "endpoints": [
                { "address": "10.0.0.1", "port": 80, "labels": { "stage": "dev", "version": "v1" } },
                { "address": "10.0.0.2", "port": 80, "labels": { "stage": "prod", "version": "v2" } },
                { "address": "10.0.0.3", "port": 80, "labels": { "stage": "prod", "version": "v2" } },
                { "address": "10.0.0.4", "port": 80, "labels": { "stage": "prod", "version": "v3" } }
              ]
            }
          }
        }
        """;

    private (ServiceProvider Provider, RoutingCatalog Catalog) Build(string json)
    {
        var file = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(file, json);
        var configuration = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: true).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDynamicSubsetCatalogFromOptions("helloworld", configuration.GetSection("Routing:helloworld"));
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return (provider, provider.GetRequiredKeyedService<RoutingCatalog>("helloworld"));
    }

    private static RouteDecision Route(RoutingCatalog catalog, string method, string path, params (string, string)[] headers)
    {
        Assert.True(catalog.Current.TryFind("helloworld", out var service));
        return service.Route(new RouteRequest(method, path), new DictionaryHeaderSource(Fixtures.Headers(headers)));
    }

    [Fact]
    public void BoundRoutes_RouteAsTheYamlWould()
    {
        var (provider, catalog) = Build(Settings());
        using var _ = provider;

        Assert.Equal(["helloworld", "helloworld/v1", "helloworld/v2"], catalog.Current.Services.Select(s => s.Name));
        var admin = Route(catalog, "POST", "/admin/x");
        Assert.Equal(("admin", "10.0.0.1:80"), (admin.RouteLabel, admin.Resolution.Endpoint!.Authority));
        Assert.Equal(TimeSpan.FromSeconds(2), admin.Route!.Timeout);
        Assert.True(admin.Route.Retries!.RetriesStatus(409));
        Assert.Equal("2", Route(catalog, "GET", "/admin/x").RouteLabel);
        Assert.Equal("stage=prod", Route(catalog, "GET", "/", ("x-stage", "prod")).Resolution.Subset!.ToString());

        var canary = Enumerable.Range(0, 1000).Select(_ => Route(catalog, "GET", "/", ("x-canary", "1"), ("x-user", "jason"))).ToList();
        var toV2 = canary.Where(d => d.Destination!.Subset == "v2").ToList();
        Assert.InRange(toV2.Count, 50, 160);
        Assert.Single(toV2.Select(d => d.Resolution.Endpoint!.Authority).Distinct()); // hashed on x-user inside v2
    }

    [Fact]
    public async Task AnEditedRoute_Reloads_AndABadOneIsRejectedWhileTheLastGoodServes()
    {
        var (provider, catalog) = Build(Settings());
        using var _ = provider;
        var file = Path.Combine(_dir, "appsettings.json");

        await File.WriteAllTextAsync(file, Settings(adminPrefix: "/ops"), TestContext.Current.CancellationToken);
        await OptionsTests.Eventually(() => Route(catalog, "POST", "/ops").RouteLabel == "admin");
        Assert.Equal("2", Route(catalog, "POST", "/admin").RouteLabel);

        await File.WriteAllTextAsync(file, Settings(adminPrefix: "/ops", extra: """, { "match": [ { "uri": { "regex": "(a" } } ], "route": [ { "destination": { "subset": "v1" } } ] }"""), TestContext.Current.CancellationToken);
        await OptionsTests.Eventually(() => catalog.Status.LastError is not null);
        Assert.Equal("admin", Route(catalog, "POST", "/ops").RouteLabel);
    }

    [Theory]
    [InlineData("""{ "match": [ { "uri": { "regex": "(a" } } ], "route": [ { "destination": { "subset": "v1" } } ] }""", "http[3].match[0].uri.regex: '(a' is not a valid regular expression")]
    [InlineData("""{ "route": [ { "destination": { "subset": "v9" } } ] }""", "http[3].route[0].destination.subset: no subset 'v9' (subsets: v1, v2)")]
    [InlineData("""{ "route": [ { "destination": { "host": "other" } } ] }""", "http[3].route[0].destination.host: 'other' is not this service (helloworld)")]
    [InlineData("""{ "route": [ { "destination": { } }, { "destination": { "subset": "v1" } } ] }""", "http[3].route: 2 destinations and no weight")]
    [InlineData("""{ "route": [ { "destination": { } } ], "retries": { "attempts": 1, "retryOn": "sometimes" } }""", "http[3].retries.retryOn: 'sometimes' is not a retry condition")]
    [InlineData("""{ "route": [ { "destination": { } } ], "timeout": "soon" }""", "http[3].timeout: 'soon' is not a duration")]
    [InlineData("""{ "match": [ { "queryParams": { "q": { "prefix": "a" } } } ], "route": [ { "destination": { } } ] }""", "http[3].match[0].queryParams['q'].prefix: queryParams take exact or regex")]
    [InlineData("""{ "route": [ ] }""", "http[3].route: required field is missing")]
    public void BadRoutes_FailAtStart_NamingTheSectionAndField(string route, string expected)
    {
        var file = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(file, Settings(extra: ", " + route));
        var configuration = new ConfigurationBuilder().AddJsonFile(file).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDynamicSubsetCatalogFromOptions("helloworld", configuration.GetSection("Routing:helloworld"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.StartsWith("Routing:helloworld: " + expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ConsistentHashWithSimple_IsAnError()
    {
        var file = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(file, Settings().Replace("\"maglev\": { \"tableSize\": 1021 } } }", "\"maglev\": { \"tableSize\": 1021 } }, \"simple\": \"RANDOM\" }", StringComparison.Ordinal));
        var configuration = new ConfigurationBuilder().AddJsonFile(file).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDynamicSubsetCatalogFromOptions("helloworld", configuration.GetSection("Routing:helloworld"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f == "Routing:helloworld: subsets[1].trafficPolicy.loadBalancer.simple: loadBalancer takes simple or consistentHash, not both");
    }
}
