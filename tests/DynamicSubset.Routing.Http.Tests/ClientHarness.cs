using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http.Tests;

/// <summary>Starts the helloworld pods once per test class, each class on its own 127.0.x block.</summary>
public abstract class HelloworldFixture : IAsyncLifetime
{
    private readonly int _block;

    protected HelloworldFixture(int block) => _block = block;

    internal Helloworld Cluster { get; private set; } = null!;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("dsr-http-").FullName;

    public async ValueTask InitializeAsync() => Cluster = await Helloworld.StartAsync(_block);

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Writes the reference page's Service, the given DestinationRule and VirtualService (verbatim) and the pods.</summary>
    public string[] MeshFiles(string destinationRule, string virtualService)
    {
        var dir = Path.Combine(Directory, Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        var pods = Path.Combine(dir, "pods.yaml");
        File.WriteAllText(pods, Cluster.PodListYaml());
        return [pods, Reference("service.yaml"), Reference(destinationRule), Reference(virtualService)];
    }

    public static string Reference(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "reference", name);
}

internal static class ClientHarness
{
    public const string ClientName = "helloworld";
    public static readonly Uri BaseAddress = new("http://helloworld.default.svc.cluster.local:8000");

    public static ServiceProvider Provider(Action<IHttpClientBuilder> route, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        route(collection.AddHttpClient(ClientName, c => c.BaseAddress = BaseAddress));
        return collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>Every routed service of the provider's catalogs, as the admin view and the gauges see them.</summary>
    public static IReadOnlyList<RoutedService> Routes(this IServiceProvider provider) =>
        [.. provider.GetRequiredService<RoutingCatalogRegistry>().All.SelectMany(static c => c.Current.Services).DistinctBy(static s => s.Resolver)];

    /// <summary>Routes the client with a catalog bound from a configuration section, named after the client.</summary>
    public static IHttpClientBuilder FromOptions(this IHttpClientBuilder builder, Microsoft.Extensions.Configuration.IConfigurationSection section)
    {
        builder.Services.AddDynamicSubsetCatalogFromOptions(builder.Name, section);
        builder.Services.Configure<DynamicSubsetHttpOptions>(builder.Name, section); // the handler's own settings, from the same section
        return builder.AddDynamicSubsetRouting();
    }

    /// <summary>Routes the client with the default catalog, from mesh files.</summary>
    public static IHttpClientBuilder FromFiles(this IHttpClientBuilder builder, IEnumerable<string> files)
    {
        builder.Services.AddDynamicSubsetCatalogFromFiles(files);
        return builder.AddDynamicSubsetRouting();
    }

    public static HttpClient Client(this IServiceProvider provider) => provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);

    public static async Task<(int Status, string Body)> GetAsync(this HttpClient client, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
