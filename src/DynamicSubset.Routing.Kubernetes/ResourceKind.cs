using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>A watched object: its key (<c>Kind namespace/name</c>), its resourceVersion, and what the compiler reads of it.</summary>
/// <param name="Key">The key; empty for a bookmark.</param>
/// <param name="ResourceVersion">Its resourceVersion.</param>
/// <param name="Payload">A <see cref="JsonObject"/>, or for pods a compact <see cref="DynamicSubset.Routing.Configuration.PodFacts"/>.</param>
internal readonly record struct KubeObject(string Key, string ResourceVersion, object? Payload);

/// <summary>Which page of a list to ask for: at most <see cref="Limit"/> objects, after <see cref="Continue"/> (null for the first page).</summary>
internal readonly record struct ListPage(int? Limit, string? Continue);

/// <summary>One page of a list: its resourceVersion (the list's snapshot), its objects, and the token of the next page (null on the last).</summary>
internal sealed record ListedPage(string ResourceVersion, List<KubeObject> Items, string? Continue);

/// <summary>One kind the catalog watches, and how to list and watch it with KubernetesClient.</summary>
internal abstract class ResourceKind(string kind)
{
    public string Kind { get; } = kind;

    /// <summary>Gets the API version the objects are read as, once known.</summary>
    public abstract string ApiVersion { get; }

    /// <summary>Lists one page of the objects of a namespace (or all).</summary>
    public abstract Task<ListedPage> ListAsync(IKubernetes client, string? ns, ListPage page, CancellationToken cancellationToken);

    /// <summary>Watches from a resourceVersion, with bookmarks. KubernetesClient hands an ERROR event to <paramref name="onError"/> and then ends the stream.</summary>
    public abstract IAsyncEnumerable<(WatchEventType Type, KubeObject? Object)> WatchAsync(
        IKubernetes client, string? ns, string resourceVersion, Action<Exception> onError, CancellationToken cancellationToken);

    /// <summary>Gives an object the apiVersion and kind that list items leave out.</summary>
    protected JsonObject Complete(JsonObject item)
    {
        item["apiVersion"] ??= ApiVersion;
        item["kind"] ??= Kind;
        return item;
    }

    protected static JsonObject ToJson(object value) =>
        JsonNode.Parse(KubernetesJson.Serialize(value))!.AsObject();

    protected KubeObject FromJson(JsonObject item) => new(
        $"{Kind} {item["metadata"]?["namespace"]?.GetValue<string>() ?? "default"}/{item["metadata"]?["name"]?.GetValue<string>() ?? ""}",
        item["metadata"]?["resourceVersion"]?.GetValue<string>() ?? "",
        Complete(item));
}

/// <summary>A core kind with KubernetesClient's typed API: services.</summary>
internal sealed class CoreKind<T, TList>(
    string kind,
    Func<IKubernetes, string?, ListPage, CancellationToken, Task<HttpOperationResponse<TList>>> list,
    Func<IKubernetes, string?, string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch) : ResourceKind(kind)
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IKubernetesObject<V1ListMeta>, IItems<T>
{
    public override string ApiVersion => "v1";

    public override async Task<ListedPage> ListAsync(IKubernetes client, string? ns, ListPage page, CancellationToken cancellationToken)
    {
        using var response = await list(client, ns, page, cancellationToken).ConfigureAwait(false);
        var body = response.Body;
        return new ListedPage(body.Metadata.ResourceVersion, [.. body.Items.Select(Convert)], body.Metadata.ContinueProperty is { Length: > 0 } next ? next : null);
    }

    public override async IAsyncEnumerable<(WatchEventType Type, KubeObject? Object)> WatchAsync(
        IKubernetes client, string? ns, string resourceVersion, Action<Exception> onError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (type, item) in watch(client, ns, resourceVersion, onError, cancellationToken).ConfigureAwait(false))
        {
            yield return (type, item is null ? null : type == WatchEventType.Bookmark ? new KubeObject("", item.Metadata?.ResourceVersion ?? "", null) : Convert(item));
        }
    }

    /// <summary>A typed object as the compiler reads it: its JSON.</summary>
    private KubeObject Convert(T item) => FromJson(ToJson(item));
}

/// <summary>An Istio kind, through the custom objects API: <c>networking.istio.io</c>, v1 or else v1beta1.</summary>
internal sealed class IstioKind(string kind, string plural) : ResourceKind(kind)
{
    private const string Group = "networking.istio.io";
    private string _version = "v1";

    public override string ApiVersion => $"{Group}/{_version}";

    public override async Task<ListedPage> ListAsync(IKubernetes client, string? ns, ListPage page, CancellationToken cancellationToken)
    {
        HttpOperationResponse<object> response;
        try
        {
            response = await List(client, ns, page, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound && _version == "v1" && page.Continue is null)
        {
            _version = "v1beta1"; // an Istio older than 1.22 serves only v1beta1
            response = await List(client, ns, page, cancellationToken).ConfigureAwait(false);
        }

        using (response)
        {
            var list = JsonNode.Parse(JsonSerializer.Serialize(response.Body))!.AsObject();
            var resourceVersion = list["metadata"]?["resourceVersion"]?.GetValue<string>() ?? "";
            var next = list["metadata"]?["continue"]?.GetValue<string>();
            return new ListedPage(
                resourceVersion, [.. (list["items"]?.AsArray() ?? []).OfType<JsonObject>().Select(i => FromJson(i.DeepClone().AsObject()))], next is { Length: > 0 } ? next : null);
        }
    }

    public override async IAsyncEnumerable<(WatchEventType Type, KubeObject? Object)> WatchAsync(
        IKubernetes client, string? ns, string resourceVersion, Action<Exception> onError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = ns is null
            ? client.CustomObjects.WatchListClusterCustomObjectAsync(Group, _version, plural, allowWatchBookmarks: true, resourceVersion: resourceVersion, onError: onError, cancellationToken: cancellationToken)
            : client.CustomObjects.WatchListNamespacedCustomObjectAsync(Group, _version, ns, plural, allowWatchBookmarks: true, resourceVersion: resourceVersion, onError: onError, cancellationToken: cancellationToken);
        await foreach (var (type, item) in events.ConfigureAwait(false))
        {
            // The client hands custom objects over as JSON elements.
            yield return (type, item is JsonElement { ValueKind: JsonValueKind.Object } element ? FromJson(JsonObject.Create(element)!.DeepClone().AsObject()) : null);
        }
    }

    private Task<HttpOperationResponse<object>> List(IKubernetes client, string? ns, ListPage page, CancellationToken cancellationToken) =>
        ns is null
            ? client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync(Group, _version, plural, continueParameter: page.Continue, limit: page.Limit, cancellationToken: cancellationToken)
            : client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync(Group, _version, ns, plural, continueParameter: page.Continue, limit: page.Limit, cancellationToken: cancellationToken);
}

/// <summary>The strings pods repeat, held once.</summary>
internal static class Pods
{
    /// <summary>
    /// One instance of each label key, label value and namespace that many pods repeat (<c>app</c>, <c>version</c>,
    /// <c>v2</c>, <c>default</c>): kept pods then hold references, not copies. Bounded, so labels unique to each pod
    /// (a hash, a pod name) stop being pooled once it is full instead of growing it forever; pooled strings are never
    /// let go, which is what the bound is for.
    /// </summary>
    private static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);
    private static int _pooled;
    private const int MaxPooled = 4096;

    public static string Shared(string value)
    {
        if (value.Length > 64)
        {
            return value;
        }

        if (Pool.TryGetValue(value, out var shared))
        {
            return shared;
        }

        if (Volatile.Read(ref _pooled) >= MaxPooled || !Pool.TryAdd(value, value))
        {
            return Pool.TryGetValue(value, out shared) ? shared : value;
        }

        Interlocked.Increment(ref _pooled);
        return value;
    }

    /// <summary>The string a JSON token (a property name or a string) holds, from the pool without a string of its own when it is there already.</summary>
    public static string Shared(ref System.Text.Json.Utf8JsonReader reader)
    {
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > 64)
        {
            return reader.GetString()!;
        }

        Span<char> chars = stackalloc char[64]; // a value is never longer in UTF-16 than in UTF-8, escaped or not
        var value = chars[..reader.CopyString(chars)];
        return Lookup.TryGetValue(value, out var shared) ? shared : Shared(new string(value));
    }

    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup = Pool.GetAlternateLookup<ReadOnlySpan<char>>();
}
