using System.Net;
using System.Text;
using System.Text.Json;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.AspNetCore.Tests;

/// <summary>The admin view's JSON, for scripts: snapshot, stats, decisions and explain, from a real Kestrel app.</summary>
public sealed class AdminJsonTests : IAsyncLifetime
{
    private static readonly RoutingPolicy Policy = new(
        new DynamicSubsetPolicy([new SubsetSelector(["stage", "version"], FallbackPolicy.AnyEndpoint)]),
        [new HeaderMapping("x-version", "version", "v3"), new HeaderMapping("x-stage", "stage")]);

    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.4.41:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<RoutingCatalog>(InMemoryRoutingCatalog.ForService("helloworld", Policy,
        [
            Endpoint.Create("10.0.0.1", 80, new Dictionary<string, string> { ["stage"] = "dev", ["version"] = "v1" }, name: "dev-v1"),
            Endpoint.Create("10.0.0.2", 80, new Dictionary<string, string> { ["stage"] = "prod", ["version"] = "v3" }, name: "prod-v3"),
        ]));
        builder.Services.AddHttpClient("helloworld").AddDynamicSubsetRouting();
        _app = builder.Build();
        _app.MapDynamicSubsetDebug("/admin");
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private async Task<(HttpStatusCode, JsonElement)> GetAsync(string path, string? post = null)
    {
        using var response = post is null
            ? await _client.GetAsync(path, TestContext.Current.CancellationToken)
            : await _client.PostAsync(path, new StringContent(post, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Decides requests through the one pipeline, as an entry point would, without sending them anywhere.</summary>
    private void Decide(params (string, string)[] headers)
    {
        var pipeline = _app.Services.GetRequiredService<RoutingPipeline>();
        var service = _app.Services.GetRequiredService<RoutingCatalog>().Current.Services[0];
        pipeline.Decide(service, new RouteRequest("GET", "/"), new DictionaryHeaderSource(headers.ToDictionary(h => h.Item1, h => h.Item2)), activity: null);
    }

    [Fact]
    public async Task Snapshot_HasTheCatalogAndTheServicesSubsetsWithSelectorsAndMappings()
    {
        var (status, json) = await GetAsync("/admin");

        Assert.Equal(HttpStatusCode.OK, status);
        var catalog = json.GetProperty("catalogs")[0];
        Assert.Equal("static list 'helloworld'", catalog.GetProperty("source").GetString());
        Assert.Equal("synced", catalog.GetProperty("syncState").GetString());
        var service = json.GetProperty("services")[0];
        Assert.Equal("helloworld", service.GetProperty("host").GetString());
        Assert.Equal("stage,version", string.Join(",", service.GetProperty("selectors")[0].GetProperty("keys").EnumerateArray().Select(k => k.GetString())));
        Assert.Equal("x-version", service.GetProperty("headerMappings")[0].GetProperty("header").GetString());
        Assert.Equal("v3", service.GetProperty("headerMappings")[0].GetProperty("defaultValue").GetString());
        var endpoint = service.GetProperty("subsets")[0].GetProperty("endpoints")[0];
        Assert.Equal(("10.0.0.1:80", "dev-v1", true, 1, 0), (endpoint.GetProperty("address").GetString(), endpoint.GetProperty("name").GetString(),
            endpoint.GetProperty("routable").GetBoolean(), endpoint.GetProperty("weight").GetInt32(), endpoint.GetProperty("inFlight").GetInt32()));
    }

    [Fact]
    public async Task Stats_CountTheLastMinuteByServiceAndOutcome()
    {
        Decide(("x-stage", "dev"), ("x-version", "v1"));
        Decide(("x-stage", "dev"), ("x-version", "v1"));
        Decide(("x-stage", "qa"));

        var (_, json) = await GetAsync("/admin/stats");

        Assert.Equal(60, json.GetProperty("seconds").GetInt32());
        var series = json.GetProperty("series").EnumerateArray().ToDictionary(s => s.GetProperty("outcome").GetString()!);
        Assert.Equal(2, series["matched"].GetProperty("total").GetInt64());
        Assert.Equal(1, series["fallback ANY_ENDPOINT"].GetProperty("total").GetInt64());
        Assert.Equal("helloworld", series["matched"].GetProperty("service").GetString());
        Assert.Equal(60, series["matched"].GetProperty("perSecond").GetArrayLength());
        Assert.Equal(2, series["matched"].GetProperty("perSecond")[59].GetInt64() + series["matched"].GetProperty("perSecond")[58].GetInt64());
    }

    [Fact]
    public async Task Decisions_KeepOnlyThoseThatWereNotPlainMatches_NewestFirst_WithTheirExplanation()
    {
        Decide(("x-stage", "dev"), ("x-version", "v1"));
        Decide(("x-stage", "qa"));
        Decide(("x-stage", "staging"), ("x-version", "v2"));

        var (_, json) = await GetAsync("/admin/decisions");

        var decisions = json.GetProperty("decisions");
        Assert.Equal(2, decisions.GetArrayLength());
        var newest = decisions[0].GetProperty("explanation");
        Assert.StartsWith("no subset matched; selector fallback ANY_ENDPOINT", newest.GetProperty("decision").GetString(), StringComparison.Ordinal);
        Assert.Equal("staging", newest.GetProperty("criteria")[1].GetProperty("value").GetString());
        Assert.Equal("fallback", newest.GetProperty("outcome").GetString());
        Assert.Equal("qa", decisions[1].GetProperty("explanation").GetProperty("criteria")[1].GetProperty("value").GetString());
    }

    [Fact]
    public void Decisions_AreABoundedRing_AndAtMostAHundredASecondPerServiceAreKept()
    {
        // The pipeline's own clock is a fake one here, so that "a second" is exact.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var pipeline = new RoutingPipeline(_app.Services.GetRequiredService<RoutingTelemetry>(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, time);
        var service = _app.Services.GetRequiredService<RoutingCatalog>().Current.Services[0];
        void Decide(string stage) => pipeline.Decide(service, new RouteRequest("GET", "/"), new DictionaryHeaderSource(new Dictionary<string, string> { ["x-stage"] = stage }), activity: null);
        string Stage(RecordedDecision d) => d.Explanation!.Criteria[1].Value!;

        for (var i = 0; i < 150; i++)
        {
            Decide($"a{i}");
        }

        var first = pipeline.RecentDecisions();
        Assert.Equal(RoutingPipeline.DecisionsPerSecond, first.Count); // a fallback storm explains a hundred, not all
        Assert.Equal(("a99", "a0"), (Stage(first[0]), Stage(first[^1])));

        for (var i = 0; i < 250; i++)
        {
            if (i % 50 == 0)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }

            Decide($"s{i}");
        }

        var decisions = pipeline.RecentDecisions();
        Assert.Equal(DecisionLog.DefaultCapacity, decisions.Count);
        Assert.Equal(("s249", "s50"), (Stage(decisions[0]), Stage(decisions[^1])));
    }

    [Fact]
    public async Task Explain_GivesTheCriteriaTheDecisionAndTheEndpointSet()
    {
        var (status, json) = await GetAsync("/admin/explain", """{"service": "helloworld", "headers": {"x-stage": "dev", "X-Version": ["v1"]}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("matched subset stage=dev, version=v1", json.GetProperty("decision").GetString());
        Assert.Equal("matched", json.GetProperty("outcome").GetString());
        Assert.Equal("10.0.0.1:80", json.GetProperty("endpoint").GetString());
        Assert.Equal(["10.0.0.1:80 dev-v1"], json.GetProperty("endpointSet").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("header", json.GetProperty("criteria")[0].GetProperty("from").GetString());
    }

    [Theory]
    [InlineData("""{"service": "nosuch"}""", "service: 'nosuch' is not a routed service (services: helloworld)")]
    [InlineData("""{"service": "helloworld", "headers": []}""", "headers: expected an object of header names to a string or a list of strings")]
    [InlineData("""{"service": "helloworld", "headers": {"x-stage": 5}}""", "headers.x-stage: expected a string or a list of strings")]
    [InlineData("""{"service": """, "invalid JSON: ")]
    [InlineData("""[]""", "expected an object like {")]
    [InlineData("""{"service": 7}""", "service: expected a string, not '7'")]
    [InlineData("""{"service": "helloworld", "port": 70000}""", "port: '70000' is not a number from 1 to 65535")]
    [InlineData("""{"service": "helloworld", "method": ""}""", "method: expected a method such as GET")]
    public async Task Explain_BadInput_IsA400ThatSaysWhat(string body, string message)
    {
        var (status, json) = await GetAsync("/admin/explain", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(message, json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"candidate": ""}""", "candidate: expected the edited objects as YAML or JSON text")]
    [InlineData("""{"candidate": 5}""", "candidate: expected the edited objects as YAML or JSON text")]
    [InlineData("""{"candidate": "kind: DestinationRule"}""", ": this catalog cannot preview an edit (files and clusters can)")]
    public async Task WhatIf_WithoutAPreviewableCandidate_IsA400ThatSaysWhy(string body, string message)
    {
        var (status, json) = await GetAsync("/admin/whatif", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.EndsWith(message, json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Origin", "http://evil.example", HttpStatusCode.Forbidden)]
    [InlineData("Origin", "null", HttpStatusCode.Forbidden)]
    [InlineData("Sec-Fetch-Site", "cross-site", HttpStatusCode.Forbidden)]
    [InlineData("Sec-Fetch-Site", "same-origin", HttpStatusCode.OK)]
    public async Task Explain_FromAnotherSite_IsRefused(string header, string value, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/explain")
        {
            Content = new StringContent("""{"service": "helloworld"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Contains("a cross-site request is refused", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/admin/explain", 64 * 1024)]
    [InlineData("/admin/whatif", 1024 * 1024)]
    public async Task ABodyWithNoLength_IsReadOnlyUpToTheBound(string path, int bound)
    {
        // Chunked: no Content-Length to refuse first. Twice the bound of one JSON string.
        var body = new MemoryStream(Encoding.UTF8.GetBytes("{\"candidate\": \"" + new string('x', 2 * bound) + "\"}"));
        using var content = new StreamContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"the request is larger than {bound} bytes", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_WithTheListenersOwnOrigin_IsAnswered()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/explain")
        {
            Content = new StringContent("""{"service": "helloworld"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Origin", $"http://{_client.BaseAddress!.Authority}");

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Page_IsSelfContained()
    {
        using var response = await _client.GetAsync("/admin/ui", TestContext.Current.CancellationToken);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.StartsWith("default-src 'none';", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.DoesNotContain("src=\"http", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"http", html, StringComparison.Ordinal);
    }
}
