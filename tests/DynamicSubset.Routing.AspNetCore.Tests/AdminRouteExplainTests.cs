using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.AspNetCore.Tests;

/// <summary>The admin view's explain for a service with VirtualService routes: which route, why not the others, which destination.</summary>
public sealed class AdminRouteExplainTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        var dev = Endpoint.Create("10.0.0.1", 80, new Dictionary<string, string> { ["version"] = "v1" }, name: "v1");
        var prod = Endpoint.Create("10.0.0.2", 80, new Dictionary<string, string> { ["version"] = "v2" }, name: "v2");
        var plain = new RoutingPolicy(DynamicSubsetPolicy.None, []);
        var all = new RoutedService("helloworld", new SubsetResolver(SubsetIndex.Build([dev, prod], plain)));
        var v2 = new RoutedService("helloworld/v2", new SubsetResolver(SubsetIndex.Build([prod], plain)));
        var entry = new RoutedService("helloworld", all.Resolver)
        {
            Routes =
            [
                new HttpRouteRule([new RouteDestination("helloworld", "v2", v2)], [new HttpRouteMatch { Uri = StringMatch.Prefix("/beta") }]) { Name = "beta" },
                new HttpRouteRule([new RouteDestination("helloworld", null, all)], [new HttpRouteMatch { Method = StringMatch.Exact("GET") }]),
            ],
        };

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.4.42:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<RoutingCatalog>(new InMemoryRoutingCatalog([entry, v2]));
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

    private async Task<(HttpStatusCode, JsonElement)> ExplainAsync(string body)
    {
        using var response = await _client.PostAsync("/admin/explain", new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone());
    }

    [Fact]
    public async Task Explain_RoutesFirst_SayingWhyEarlierRoutesFailed()
    {
        var (status, json) = await ExplainAsync("""{"service": "helloworld", "method": "GET", "path": "/shop?x=1"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("helloworld", json.GetProperty("routedBy").GetString());
        Assert.Equal("1", json.GetProperty("route").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("destination").GetProperty("subset").ValueKind);
        var routes = json.GetProperty("routes");
        Assert.Equal("uri prefix '/beta' does not match '/shop'", routes[0].GetProperty("why").GetString());
        Assert.True(routes[1].GetProperty("matched").GetBoolean());
        Assert.Equal("no dynamicSubset: any routable endpoint", json.GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Explain_NoRoute_SaysSo()
    {
        var (status, json) = await ExplainAsync("""{"service": "helloworld", "method": "POST", "path": "/shop"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("no_route", json.GetProperty("outcome").GetString());
        Assert.Equal("no route: no VirtualService route matches", json.GetProperty("decision").GetString());
        Assert.Equal(2, json.GetProperty("routes").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("endpoint").ValueKind);
    }

    [Fact]
    public async Task Explain_BadPath_IsA400()
    {
        var (status, json) = await ExplainAsync("""{"service": "helloworld", "path": "shop"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("path: 'shop' is not a path: it must start with '/' (the query may follow, as /items?id=3)", json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("\"10.0.0.300\"", "sourceIp: '10.0.0.300' is not an IP address")]
    [InlineData("42", "sourceIp: '42' is not an IP address")]
    [InlineData("\"\"", "sourceIp: '' is not an IP address")]
    public async Task Explain_BadSourceIp_IsA400ThatQuotesIt(string sourceIp, string error)
    {
        var (status, json) = await ExplainAsync($$"""{"service": "helloworld", "sourceIp": {{sourceIp}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(error, json.GetProperty("error").GetString());
    }
}
