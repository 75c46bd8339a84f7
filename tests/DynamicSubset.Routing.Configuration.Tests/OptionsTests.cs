using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration.Tests;

/// <summary>Binding from appsettings-style JSON, validation at start, and reload through IOptionsMonitor, on a real file.</summary>
public sealed class OptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Settings(string stageOfFirst = "dev", string fallback = "ANY_ENDPOINT", string firstKey = "stage") => $$"""
        {
          "Routing": {
            "helloworld": {
              "host": "helloworld.default.svc.cluster.local",
              "trafficPolicy": {
                "loadBalancer": {
                  "simple": "ROUND_ROBIN",
                  "dynamicSubset": {
                    "subsetSelectors": [ { "keys": [ "{{firstKey}}", "version" ], "fallbackPolicy": "{{fallback}}" } ]
                  }
                }
              },
              "headerToDynamicSubsetKey": [
                { "header": "x-version", "key": "version", "defaultValue": "v3" },
                { "header": "x-stage", "key": "stage", "defaultValue": "prod" }
              ],
              "endpoints": [
                { "address": "10.0.0.1", "port": 5678, "labels": { "stage": "{{stageOfFirst}}", "version": "v1" }, "name": "one" },
                { "address": "10.0.0.2", "port": 5678, "labels": { "stage": "prod", "version": "v3" }, "weight": 2 }
              ]
            }
          }
        }
        """;

    private (ServiceProvider Provider, FakeLogCollector Logs) Build(string json)
    {
        var file = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(file, json);
        var configuration = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: true).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(b => b.AddFakeLogging());
        services.AddDynamicSubsetRoutingOptions("helloworld", configuration.GetSection("Routing:helloworld"));
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetFakeLogCollector());
    }

    [Fact]
    public void Bound_OptionsResolveAsTheYamlWould()
    {
        var (provider, _) = Build(Settings());
        using var _p = provider;
        provider.GetRequiredService<IStartupValidator>().Validate();

        var source = provider.GetRequiredKeyedService<OptionsSubsetResolver>("helloworld");
        var result = source.Resolver.Resolve(Fixtures.Headers(("x-stage", "dev"), ("x-version", "v1")));

        Assert.Equal(("10.0.0.1", "one"), (result.Endpoint?.AddressText, result.Endpoint?.Name));
        Assert.Equal(LoadBalancingPolicy.RoundRobin, source.Resolver.Current.Policy.LoadBalancing);
        Assert.Equal(FallbackPolicy.AnyEndpoint, source.Resolver.Current.Policy.DynamicSubset.SubsetSelectors[0].FallbackPolicy);
        Assert.Equal(2, source.Resolver.Current.Endpoints.Single(e => e.AddressText == "10.0.0.2").Weight);
    }

    [Theory]
    [InlineData("\"fallbackPolicy\": \"ANY_ENDPOINT\"", "\"fallbackPolicy\": \"ANY\"",
        "Routing:helloworld: trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].fallbackPolicy: unknown value 'ANY' (expected NO_FALLBACK, ANY_ENDPOINT, DEFAULT_SUBSET, KEYS_SUBSET)")]
    [InlineData("\"keys\": [ \"stage\"", "\"keys\": [ \"%pod%\"",
        "Routing:helloworld: trafficPolicy.loadBalancer.dynamicSubset.subsetSelectors[0].keys[0]: unknown built-in attribute '%pod%' (the built-ins are: %ip%)")]
    [InlineData("\"address\": \"10.0.0.2\"", "\"address\": \"10.0.0.x\"",
        "Routing:helloworld: endpoints[1].address: '10.0.0.x' is not an IP address")]
    [InlineData("\"simple\": \"ROUND_ROBIN\"", "\"simple\": \"ROUND\"",
        "Routing:helloworld: trafficPolicy.loadBalancer.simple: unknown value 'ROUND' (expected LEAST_REQUEST, ROUND_ROBIN, RANDOM)")]
    [InlineData("{ \"header\": \"x-stage\", \"key\": \"stage\", \"defaultValue\": \"prod\" }", "{ \"header\": \"x-env\", \"key\": \"version\" }",
        "Routing:helloworld: headerToDynamicSubsetKey[1].key: key 'version' is already mapped by headerToDynamicSubsetKey[0] (header 'x-version')")]
    public void InvalidRules_FailAtStart_NamingSectionAndField(string find, string replace, string expected)
    {
        var (provider, _) = Build(Settings().Replace(find, replace, StringComparison.Ordinal));
        using var _p = provider;

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(expected, error.Failures);
    }

    [Fact]
    public void MissingRequiredField_FailsAtStart_FromTheGeneratedValidator()
    {
        var (provider, _) = Build(Settings().Replace("\"header\": \"x-version\", ", "", StringComparison.Ordinal));
        using var _p = provider;

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.Contains("HeaderToDynamicSubsetKey[0].Header", StringComparison.Ordinal) && f.Contains("required", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task FileEdits_Reload_InvalidEditIsRejectedAndLastGoodKeepsServing()
    {
        var (provider, logs) = Build(Settings());
        using var _p = provider;
        var source = provider.GetRequiredKeyedService<OptionsSubsetResolver>("helloworld");
        var devV1 = Fixtures.Headers(("x-stage", "dev"), ("x-version", "v1"));
        var qaV1 = Fixtures.Headers(("x-stage", "qa"), ("x-version", "v1"));
        var file = Path.Combine(_dir, "appsettings.json");

        // 1. A valid edit: relabel the first endpoint from dev to qa.
        await File.WriteAllTextAsync(file, Settings(stageOfFirst: "qa"), TestContext.Current.CancellationToken);
        await Eventually(() => source.Resolver.Resolve(qaV1).Outcome == ResolutionOutcome.Matched);
        Assert.Equal(ResolutionOutcome.Fallback, source.Resolver.Resolve(devV1).Outcome);
        var good = source.Resolver.Current;

        // 2. An invalid edit: rejected, logged, and the last good snapshot keeps serving.
        await File.WriteAllTextAsync(file, Settings(stageOfFirst: "dev", fallback: "SOMETIMES"), TestContext.Current.CancellationToken);
        await Eventually(() => logs.GetSnapshot().Any(r => r.Id.Id == 2));
        Assert.NotNull(source.LastError);
        Assert.Same(good, source.Resolver.Current);
        Assert.Equal("10.0.0.1", source.Resolver.Resolve(qaV1).Endpoint?.AddressText);
        var rejected = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 2);
        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Contains("unknown value 'SOMETIMES'", rejected.Message, StringComparison.Ordinal);

        // 3. A fix applies again.
        await File.WriteAllTextAsync(file, Settings(stageOfFirst: "dev"), TestContext.Current.CancellationToken);
        await Eventually(() => source.Resolver.Resolve(devV1).Outcome == ResolutionOutcome.Matched);
        Assert.Null(source.LastError);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 1);
    }

    internal static async Task Eventually(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not met in time");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }
}
