using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Kubernetes.Tests;

/// <summary>
/// A stand-in Kubernetes API server on loopback that speaks the real wire protocol for what the catalog uses: lists
/// with a resourceVersion, watches as chunked streams of JSON events (ADDED, MODIFIED, DELETED, BOOKMARK, and ERROR with
/// a 410 Status when the requested history is compacted), for core pods and services and Istio's custom objects, all
/// namespaces or one. It can cut its streams, compact its history, refuse connections (an outage) or answer 503, and
/// delay its first list.
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal); // "plural ns/name"
    private readonly List<(long Version, string Plural, string Type, JsonObject Object, JsonObject? Previous)> _history = [];
    private readonly string _ip;
    private WebApplication? _app;
    private long _version = 100;
    private long _compactedBefore;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _cut = new();

    private FakeApiServer(string ip) => _ip = ip;

    public Uri Address { get; private set; } = null!;

    public int Lists;
    public int Watches;

    /// <summary>Gets the <c>limit</c> of every list request with one, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<int> PageLimits { get; } = new();

    /// <summary>Gets or sets a value indicating whether the next list request with a continue token is refused 410 Expired, once.</summary>
    public bool ExpireNextContinue { get; set; }

    private readonly Dictionary<string, (long Version, List<JsonNode> Items)> _continues = new(StringComparer.Ordinal);

    /// <summary>Gets or sets a value indicating whether requests are answered 503 (an API server that is up but failing).</summary>
    public bool Unavailable { get; set; }

    /// <summary>Gets or sets the one version of networking.istio.io served (v1 by default; v1beta1 as an Istio older than 1.22).</summary>
    public string IstioVersion { get; set; } = "v1";

    /// <summary>
    /// Gets or sets a value indicating whether a watch from compacted history is refused with HTTP 410 and a Status body,
    /// instead of a 200 stream with one ERROR event.
    /// </summary>
    public bool GoneAsStatusCode { get; set; }

    /// <summary>Gets or sets how long the first list of each kind waits.</summary>
    public TimeSpan FirstListDelay { get; set; }

    public static async Task<FakeApiServer> StartAsync(string ip)
    {
        var server = new FakeApiServer(ip);
        await server.ListenAsync(0);
        return server;
    }

    /// <summary>Adds or replaces an object (kind from its plural), as kubectl apply would; returns its resourceVersion.</summary>
    public long Put(string plural, JsonObject obj)
    {
        lock (_lock)
        {
            var metadata = obj["metadata"]!.AsObject();
            var key = $"{plural} {metadata["namespace"]?.GetValue<string>() ?? "default"}/{metadata["name"]!.GetValue<string>()}";
            var version = ++_version;
            metadata["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            var previous = _objects.GetValueOrDefault(key);
            var type = previous is null ? "ADDED" : "MODIFIED";
            _objects[key] = obj;
            _history.Add((version, plural, type, (JsonObject)obj.DeepClone(), (JsonObject?)previous?.DeepClone()));
            Signal();
            return version;
        }
    }

    public void Delete(string plural, string ns, string name)
    {
        lock (_lock)
        {
            var key = $"{plural} {ns}/{name}";
            if (_objects.Remove(key, out var obj))
            {
                var version = ++_version;
                var gone = (JsonObject)obj.DeepClone();
                gone["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
                _history.Add((version, plural, "DELETED", gone, gone));
                Signal();
            }
        }
    }

    public JsonObject Get(string plural, string ns, string name)
    {
        lock (_lock)
        {
            return (JsonObject)_objects[$"{plural} {ns}/{name}"].DeepClone();
        }
    }

    /// <summary>Drops every event so far from the history: a watch from an older resourceVersion gets 410 Gone.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _compactedBefore = _version + 1;
            _history.Clear();
        }
    }

    /// <summary>Ends every open watch stream mid-way, as a server restart or a load balancer would.</summary>
    public void CutWatches()
    {
        CancellationTokenSource old;
        lock (_lock)
        {
            old = _cut;
            _cut = new CancellationTokenSource();
        }

        old.Cancel();
        old.Dispose();
    }

    /// <summary>Stops listening: connections are refused until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        CutWatches();
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public Task RestartAsync() => ListenAsync(Address.Port);

    public async ValueTask DisposeAsync() => await StopAsync();

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{_ip}:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        // Discovery, which kubectl reads first: the core group and Istio's networking group, legacy (not aggregated) form.
        app.MapGet("/api", () => Results.Json(new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1"), ["serverAddressByClientCIDRs"] = new JsonArray() }));
        app.MapGet("/apis", () => Results.Json(JsonNode.Parse("""
            {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{"name": "networking.istio.io",
              "versions": [{"groupVersion": "networking.istio.io/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "networking.istio.io/v1", "version": "v1"}}]}
            """)));
        app.MapGet("/api/v1", () => Results.Json(Resources("v1", ("pods", "Pod", "po"), ("services", "Service", "svc"))));
        app.MapGet("/apis/networking.istio.io/v1", () => Results.Json(Resources("networking.istio.io/v1",
            ("destinationrules", "DestinationRule", "dr"), ("virtualservices", "VirtualService", "vs"), ("serviceentries", "ServiceEntry", "se"), ("workloadentries", "WorkloadEntry", "we"))));
        app.MapGet("/api/v1/{plural}", (HttpContext c, string plural) => ServeAsync(c, plural, null));
        app.MapGet("/api/v1/namespaces/{ns}/{plural}", (HttpContext c, string ns, string plural) => ServeAsync(c, plural, ns));
        app.MapGet("/apis/networking.istio.io/{version}/{plural}", (HttpContext c, string version, string plural) => ServeAsync(c, plural, null, version));
        app.MapGet("/apis/networking.istio.io/{version}/namespaces/{ns}/{plural}", (HttpContext c, string version, string ns, string plural) => ServeAsync(c, plural, ns, version));
        await app.StartAsync();
        _app = app;
        Address = new Uri(app.Urls.First());
    }

    private async Task ServeAsync(HttpContext context, string plural, string? ns, string version = "v1")
    {
        if (Unavailable)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsJsonAsync(Status(503, "ServiceUnavailable", "the stand-in is unavailable"));
            return;
        }

        if (plural is not ("pods" or "services") && version != IstioVersion)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"].ToString());
        if (context.Request.Query["watch"] is ["true" or "1"])
        {
            await WatchAsync(context, plural, ns, selector, long.Parse(context.Request.Query["resourceVersion"].ToString() is { Length: > 0 } rv ? rv : "0", CultureInfo.InvariantCulture));
            return;
        }

        if (Interlocked.Increment(ref Lists) <= 6 && FirstListDelay > TimeSpan.Zero)
        {
            await Task.Delay(FirstListDelay);
        }

        // Paging as the API server does it: a first page of `limit` objects from a consistent snapshot, and a continue
        // token that serves the rest of that snapshot; a token the server no longer holds is 410 Expired.
        var limit = int.TryParse(context.Request.Query["limit"], CultureInfo.InvariantCulture, out var l) && l > 0 ? l : 0;
        var token = context.Request.Query["continue"].ToString();
        if (limit > 0)
        {
            PageLimits.Enqueue(limit);
        }

        JsonObject list;
        var expired = false;
        lock (_lock)
        {
            long snapshotVersion;
            List<JsonNode> items;
            var offset = 0;
            if (token.Length > 0)
            {
                var parts = token.Split(':');
                if (ExpireNextContinue || !_continues.TryGetValue(parts[0], out var snapshot))
                {
                    ExpireNextContinue = false;
                    _continues.Clear();
                    expired = true;
                    (snapshotVersion, items) = (0, []);
                }
                else
                {
                    (snapshotVersion, items, offset) = (snapshot.Version, snapshot.Items, int.Parse(parts[1], CultureInfo.InvariantCulture));
                }
            }
            else
            {
                snapshotVersion = _version;
                items = [.. _objects.Where(o => o.Key.StartsWith(plural + " ", StringComparison.Ordinal) && (ns is null || o.Key.StartsWith($"{plural} {ns}/", StringComparison.Ordinal)) && selector.Matches(o.Value))
                    .OrderBy(static o => o.Key, StringComparer.Ordinal)
                    .Select(o => (JsonNode)(plural is "pods" or "services" ? WithoutKind((JsonObject)o.Value.DeepClone()) : (JsonObject)o.Value.DeepClone()))];
            }

            var metadata = new JsonObject { ["resourceVersion"] = snapshotVersion.ToString(CultureInfo.InvariantCulture) };
            var count = limit > 0 ? Math.Min(limit, items.Count - offset) : items.Count - offset;
            var id = token.Length > 0 ? token.Split(':')[0] : Guid.NewGuid().ToString("N");
            if (offset + count < items.Count)
            {
                _continues[id] = (snapshotVersion, items);
                metadata["continue"] = $"{id}:{offset + count}";
                metadata["remainingItemCount"] = items.Count - offset - count;
            }
            else
            {
                _continues.Remove(id); // the last page: the snapshot is let go
            }

            list = new JsonObject
            {
                ["apiVersion"] = plural is "pods" or "services" ? "v1" : $"networking.istio.io/{IstioVersion}",
                ["kind"] = KindOf(plural) + "List",
                ["metadata"] = metadata,
                ["items"] = new JsonArray([.. items.Skip(offset).Take(count).Select(static i => i.DeepClone())]),
            };
        }

        context.Response.ContentType = "application/json";
        if (expired)
        {
            context.Response.StatusCode = StatusCodes.Status410Gone;
            await context.Response.WriteAsync(Status(410, "Expired", "The provided continue parameter is too old to display a consistent list result.").ToJsonString());
            return;
        }

        await context.Response.WriteAsync(list.ToJsonString());
    }

    private async Task WatchAsync(HttpContext context, string plural, string? ns, LabelSelector selector, long from)
    {
        Interlocked.Increment(ref Watches);
        context.Response.ContentType = "application/json";
        CancellationToken cut;
        lock (_lock)
        {
            cut = _cut.Token;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cut, context.RequestAborted);
        try
        {
            long sent;
            lock (_lock)
            {
                sent = from;
                if (from != 0 && from < _compactedBefore - 1)
                {
                    sent = -1;
                }
            }

            if (sent < 0 && GoneAsStatusCode)
            {
                context.Response.StatusCode = StatusCodes.Status410Gone;
                await context.Response.WriteAsJsonAsync(Status(410, "Expired", $"too old resource version: {from}"), stop.Token);
                return;
            }

            if (sent < 0)
            {
                // The history the client asks for is gone: one ERROR event with a 410 Status, then the stream ends.
                await WriteEventAsync(context, "ERROR", Status(410, "Expired", $"too old resource version: {from}"), stop.Token);
                return;
            }

            var lastBookmark = Environment.TickCount64;
            while (!stop.IsCancellationRequested)
            {
                List<(long Version, string? Type, JsonObject Object)> pending;
                Task changed;
                lock (_lock)
                {
                    pending = [.. _history.Where(h => h.Version > sent && h.Plural == plural && (ns is null || h.Object["metadata"]?["namespace"]?.GetValue<string>() == ns))
                        .Select(h => (h.Version, Type: selector.EventType(h.Type, h.Object, h.Previous), h.Object))];
                    changed = _changed.Task;
                    if (pending.Count == 0)
                    {
                        sent = Math.Max(sent, _version);
                    }
                }

                foreach (var (version, type, obj) in pending)
                {
                    if (type is not null)
                    {
                        await WriteEventAsync(context, type, obj, stop.Token);
                    }

                    sent = version;
                }

                if (Environment.TickCount64 - lastBookmark > 500)
                {
                    lastBookmark = Environment.TickCount64;
                    var bookmark = new JsonObject
                    {
                        ["kind"] = KindOf(plural),
                        ["apiVersion"] = plural is "pods" or "services" ? "v1" : $"networking.istio.io/{IstioVersion}",
                        ["metadata"] = new JsonObject { ["resourceVersion"] = sent.ToString(CultureInfo.InvariantCulture) },
                    };
                    await WriteEventAsync(context, "BOOKMARK", bookmark, stop.Token);
                }

                await Task.WhenAny(changed, Task.Delay(500, stop.Token)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Cut, or the client left: the stream just ends.
        }
        catch (IOException)
        {
        }

        context.Abort(); // an abrupt end, as a cut connection
    }

    private static async Task WriteEventAsync(HttpContext context, string type, JsonObject obj, CancellationToken cancellationToken)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString() + "\n";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    private static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static string KindOf(string plural) => plural switch
    {
        "pods" => "Pod",
        "services" => "Service",
        "destinationrules" => "DestinationRule",
        "virtualservices" => "VirtualService",
        "serviceentries" => "ServiceEntry",
        _ => "WorkloadEntry",
    };

    private static JsonObject Resources(string groupVersion, params (string Plural, string Kind, string Short)[] resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray([.. resources.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Plural,
            ["singularName"] = r.Kind.ToLowerInvariant(),
            ["namespaced"] = true,
            ["kind"] = r.Kind,
            ["verbs"] = new JsonArray("get", "list", "watch"),
            ["shortNames"] = new JsonArray(r.Short),
        })]),
    };

    private static JsonObject WithoutKind(JsonObject item)
    {
        // List items carry neither kind nor apiVersion, as the real API server's lists of pods and services.
        item.Remove("kind");
        item.Remove("apiVersion");
        return item;
    }
}

/// <summary>
/// Equality-based label selectors as the API server reads them (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a</c>, <c>!a</c>,
/// comma-separated, all must hold), and what a watch sends when an object moves across one: an object that starts to
/// match arrives as ADDED, one that stops matching as DELETED.
/// </summary>
internal sealed class LabelSelector
{
    private readonly List<(string Key, string? Value, bool Equal)> _terms = [];

    public static LabelSelector Parse(string text)
    {
        var selector = new LabelSelector();
        foreach (var term in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (term.IndexOf("!=", StringComparison.Ordinal) is var notEqual and >= 0)
            {
                selector._terms.Add((term[..notEqual].Trim(), term[(notEqual + 2)..].Trim(), false));
            }
            else if (term.IndexOf('=', StringComparison.Ordinal) is var equal and >= 0)
            {
                selector._terms.Add((term[..equal].Trim(), term[(equal + 1)..].TrimStart('=').Trim(), true));
            }
            else if (term.StartsWith('!'))
            {
                selector._terms.Add((term[1..].Trim(), null, false));
            }
            else
            {
                selector._terms.Add((term, null, true));
            }
        }

        return selector;
    }

    public bool Matches(JsonObject obj)
    {
        var labels = obj["metadata"]?["labels"] as JsonObject;
        foreach (var (key, value, equal) in _terms)
        {
            var actual = labels?[key]?.GetValue<string>();
            var holds = value is null ? actual is not null : actual == value;
            if (holds != equal)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The event a watch with this selector sends for a change, or <see langword="null"/> for none.</summary>
    public string? EventType(string type, JsonObject obj, JsonObject? previous)
    {
        if (_terms.Count == 0 || type == "DELETED")
        {
            return _terms.Count == 0 || Matches(obj) ? type : null;
        }

        var now = Matches(obj);
        var before = previous is not null && Matches(previous);
        return (now, before) switch
        {
            (true, true) => "MODIFIED",
            (true, false) => "ADDED",
            (false, true) => "DELETED",
            _ => null,
        };
    }
}
