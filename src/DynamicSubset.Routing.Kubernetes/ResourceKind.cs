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

/// <summary>A core kind with KubernetesClient's typed API: pods and services.</summary>
internal sealed class CoreKind<T, TList>(
    string kind,
    Func<IKubernetes, string?, string?, ListPage, CancellationToken, Task<HttpOperationResponse<TList>>> list,
    Func<IKubernetes, string?, string, string?, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
    Func<T, object>? compact = null) : ResourceKind(kind)
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IKubernetesObject<V1ListMeta>, IItems<T>
{
    public override string ApiVersion => "v1";

    /// <summary>Gets the label selector of the objects listed and watched (for pods), or <see langword="null"/>.</summary>
    public string? LabelSelector { get; init; }

    public override async Task<ListedPage> ListAsync(IKubernetes client, string? ns, ListPage page, CancellationToken cancellationToken)
    {
        using var response = await list(client, ns, LabelSelector, page, cancellationToken).ConfigureAwait(false);
        var body = response.Body;
        return new ListedPage(body.Metadata.ResourceVersion, [.. body.Items.Select(Convert)], body.Metadata.ContinueProperty is { Length: > 0 } next ? next : null);
    }

    public override async IAsyncEnumerable<(WatchEventType Type, KubeObject? Object)> WatchAsync(
        IKubernetes client, string? ns, string resourceVersion, Action<Exception> onError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (type, item) in watch(client, ns, resourceVersion, LabelSelector, onError, cancellationToken).ConfigureAwait(false))
        {
            yield return (type, item is null ? null : type == WatchEventType.Bookmark ? new KubeObject("", item.Metadata?.ResourceVersion ?? "", null) : Convert(item));
        }
    }

    /// <summary>A typed object as the compiler reads it: compact facts where the kind has them (pods), else its JSON.</summary>
    private KubeObject Convert(T item) => compact is null
        ? FromJson(ToJson(item))
        : new KubeObject($"{Kind} {item.Metadata.NamespaceProperty ?? "default"}/{item.Metadata.Name}", item.Metadata.ResourceVersion ?? "", compact(item));
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

/// <summary>What routing needs of a typed pod, and nothing else: no JSON, no YAML, a few small objects per pod.</summary>
internal static class Pods
{
    public static object Facts(V1Pod pod)
    {
        var ips = new List<string>(1);
        if (pod.Status?.PodIP is { Length: > 0 } ip)
        {
            ips.Add(ip);
        }

        foreach (var extra in pod.Status?.PodIPs ?? [])
        {
            if (extra.Ip is { Length: > 0 } other && !ips.Contains(other))
            {
                ips.Add(other);
            }
        }

        var ready = pod.Status?.Conditions?.Any(static c => c.Type == "Ready" && c.Status == "True") == true;
        var ports = (pod.Spec?.Containers ?? []).SelectMany(static c => c.Ports ?? []).Select(static p => new DynamicSubset.Routing.Configuration.ContainerPort(p.Name, p.ContainerPort)).ToList();
        var source = pod.Metadata.Labels;
        var labels = new Dictionary<string, string>(source?.Count ?? 0, StringComparer.Ordinal);
        if (source is not null)
        {
            foreach (var (key, value) in source)
            {
                labels[Shared(key)] = Shared(value ?? ""); // JSON null: the API server never sends it, but do not fail on it
            }
        }

        return new DynamicSubset.Routing.Configuration.PodFacts(pod.Metadata.Name ?? "", Shared(pod.Metadata.NamespaceProperty ?? "default"), labels, ips, ready, ports);
    }

    /// <summary>
    /// One instance of each label key, label value and namespace that many pods repeat (<c>app</c>, <c>version</c>,
    /// <c>v2</c>, <c>default</c>): kept pods then hold references, not copies. Bounded, so labels unique to each pod
    /// (a hash, a pod name) stop being pooled once it is full instead of growing it forever; pooled strings are never
    /// let go, which is what the bound is for.
    /// </summary>
    private static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);
    private static int _pooled;
    private const int MaxPooled = 4096;

    private static string Shared(string value)
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
}
