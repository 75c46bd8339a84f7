using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.AspNetCore.Tests;

/// <summary>The routing tag chosen at the edge reaches every downstream call: edge, then service A, then service B.</summary>
public sealed class PropagationTests
{
    private static async Task<WebApplication> App(string ip, Action<IServiceCollection> services, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{ip}:0");
        builder.Logging.ClearProviders();
        services(builder.Services);
        var app = builder.Build();
        app.UseDynamicSubsetHeaderPropagation();
        map(app);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static string Url(WebApplication app) => app.Urls.First();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TwoHops_TheTagArrivesAtB(bool baggage)
    {
        await using var b = await App("127.0.35.23", s => s.AddDynamicSubsetHeaderPropagation(), app =>
            app.MapGet("/", (HttpContext c) => $"x-stage={c.Request.Headers["x-stage"]} baggage={c.Request.Headers["baggage"]}"));
        await using var a = await App(
            "127.0.35.22",
            s =>
            {
                s.AddDynamicSubsetHeaderPropagation(o => { o.Headers.Add("x-stage"); o.UseBaggage = baggage; });
                s.AddHttpClient("b", c => c.BaseAddress = new Uri(Url(b))).AddDynamicSubsetHeaderPropagation();
            },
            app => app.MapGet("/", (IHttpClientFactory f) => f.CreateClient("b").GetStringAsync("/")));
        await using var edge = await App(
            "127.0.35.21",
            s =>
            {
                s.AddDynamicSubsetHeaderPropagation(o => { o.Headers.Add("x-stage"); o.UseBaggage = baggage; });
                s.AddHttpClient("a", c => c.BaseAddress = new Uri(Url(a))).AddDynamicSubsetHeaderPropagation();
            },
            app => app.MapGet("/", (IHttpClientFactory f) => f.CreateClient("a").GetStringAsync("/")));

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(edge));
        if (baggage)
        {
            request.Headers.Add("baggage", "x-stage=dev,other=1");
        }
        else
        {
            request.Headers.Add("x-stage", "dev");
        }

        var body = await (await client.SendAsync(request, TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("x-stage=dev ", body, StringComparison.Ordinal);
        Assert.Equal(baggage, body.Contains("x-stage=dev", StringComparison.Ordinal) && body.Contains("baggage=x-stage=dev", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DefaultHeaders_AreTheVirtualServiceMappings_OfTheRoutedClients()
    {
        await using var backend = await App("127.0.35.25", _ => { }, app =>
            app.MapGet("/", (HttpContext c) => $"x-stage={c.Request.Headers["x-stage"]} x-other={c.Request.Headers["x-other"]}"));
        var policy = new RoutingPolicy(new DynamicSubsetPolicy([new SubsetSelector("stage")], FallbackPolicy.AnyEndpoint), [new HeaderMapping("x-stage", "stage")]);
        var endpoint = Endpoint.Create("127.0.35.25", new Uri(Url(backend)).Port);
        await using var edge = await App(
            "127.0.35.24",
            s =>
            {
                s.AddDynamicSubsetHeaderPropagation();
                s.AddHttpClient("routed").AddDynamicSubsetRouting(policy, [endpoint]);
            },
            app => app.MapGet("/", (IHttpClientFactory f) => f.CreateClient("routed").GetStringAsync("http://backend/")));

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(edge));
        request.Headers.Add("x-stage", "dev");
        request.Headers.Add("x-other", "not-carried");

        var body = await (await client.SendAsync(request, TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal("x-stage=dev x-other=", body);
    }

    [Fact]
    public async Task OutsideARequest_PropagationDoesNothing_AndThrowsNothing()
    {
        await using var backend = await App("127.0.35.26", _ => { }, app => app.MapGet("/", (HttpContext c) => $"x-stage={c.Request.Headers["x-stage"]}"));
        var services = new ServiceCollection();
        services.AddHttpClient("plain", c => c.BaseAddress = new Uri(Url(backend))).AddDynamicSubsetHeaderPropagation();
        await using var provider = services.BuildServiceProvider();

        Assert.Null(RoutingHeaderContext.Current);
        Assert.Equal("x-stage=", await provider.GetRequiredService<IHttpClientFactory>().CreateClient("plain").GetStringAsync("/", TestContext.Current.CancellationToken));
    }
}
