using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Autorest;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>
/// Pods: listed and watched through KubernetesClient's connection and credentials, but read with <see cref="PodJson"/>
/// instead of its typed model. Pods are the kind that churns (every rollout, scale and readiness flip is an event), and
/// a pod as the API server sends it is mostly what routing never reads.
/// </summary>
internal sealed class PodKind(string? labelSelector) : ResourceKind("Pod")
{
    public override string ApiVersion => "v1";

    public override async Task<ListedPage> ListAsync(IKubernetes client, string? ns, ListPage page, CancellationToken cancellationToken)
    {
        var query = Query(("labelSelector", labelSelector), ("limit", page.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("continue", page.Continue));
        using var response = await GetAsync(client, Path(ns) + query, cancellationToken).ConfigureAwait(false);
        var body = await ReadBodyAsync(response, MaxPageBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            return PodJson.ReadList(body);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) // InvalidOperationException: a string that is not UTF-8
        {
            throw new InvalidDataException($"the list of pods{(ns is null ? "" : " in " + ns)} is not a pod list: {e.Message}", e);
        }
    }

    /// <remarks>An ERROR event is handed over as an event (its Status's code and message), and ends the stream.</remarks>
    public override async IAsyncEnumerable<(WatchEventType Type, KubeObject? Object)> WatchAsync(
        IKubernetes client, string? ns, string resourceVersion, Action<Exception> onError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = Query(("allowWatchBookmarks", "true"), ("labelSelector", labelSelector), ("resourceVersion", resourceVersion), ("watch", "true"));
        using var response = await GetAsync(client, Path(ns) + query, cancellationToken).ConfigureAwait(false);
        var reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        long searched = 0; // how much of the line still coming was searched for its end already: a long line is not searched again
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (buffer.Slice(searched).PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    searched = 0;
                    if (!IsBlank(line) && Parse(line, ns, onError) is { } change)
                    {
                        yield return change;
                        if (change.Type == WatchEventType.Error)
                        {
                            yield break; // the server ends the stream after an ERROR
                        }
                    }
                }

                if (buffer.Length > PodJson.MaxEventBytes)
                {
                    throw new InvalidDataException($"the watch of pods sent more than {PodJson.MaxEventBytes / (1024 * 1024)} MB without a line break: not a watch stream");
                }

                searched = buffer.Length;
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    yield break; // the server ended the stream (its timeout); a line cut short by it is dropped
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One event; an event that cannot be read is handed to <paramref name="onError"/> and skipped, as KubernetesClient's
    /// watch does: the pod keeps its last readable version, and the events after it still arrive.
    /// </summary>
    private static (WatchEventType Type, KubeObject? Object)? Parse(ReadOnlySequence<byte> line, string? ns, Action<Exception> onError)
    {
        try
        {
            return PodJson.ReadEvent(line);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) // InvalidOperationException: a string that is not UTF-8
        {
            onError(new InvalidDataException($"the watch of pods{(ns is null ? "" : " in " + ns)} sent an event that cannot be read: {e.Message}", e));
            return null;
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            if (segment.Span.IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private static string Path(string? ns) => ns is null ? "api/v1/pods" : $"api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods";

    private static string Query(params ReadOnlySpan<(string Name, string? Value)> parameters)
    {
        var query = new System.Text.StringBuilder();
        foreach (var (name, value) in parameters)
        {
            if (value is not null)
            {
                query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }

        return query.ToString();
    }

    /// <summary>
    /// A GET through the client's own HttpClient and credentials, as KubernetesClient sends its requests (HTTP/2 where the
    /// server speaks it); an error status throws <see cref="HttpOperationException"/> with the response, as it does.
    /// </summary>
    private static async Task<HttpResponseMessage> GetAsync(IKubernetes client, string relative, CancellationToken cancellationToken)
    {
        var kubernetes = client as k8s.Kubernetes ?? throw new NotSupportedException($"pods are read through a {typeof(k8s.Kubernetes).FullName}, not a {client.GetType().FullName}");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(kubernetes.BaseUri, relative)) { Version = HttpVersion.Version20 };
        if (kubernetes.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var response = await kubernetes.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new HttpOperationException($"Operation returned an invalid status code '{response.StatusCode}'")
            {
                Request = new HttpRequestMessageWrapper(request, null),
                Response = new HttpResponseMessageWrapper(response, content),
            };
        }
    }

    /// <summary>The most one page of a list may hold: a page of 500 pods as an API server sends them is a few MB.</summary>
    private const long MaxPageBytes = 512L * 1024 * 1024;

    /// <summary>
    /// A whole response body in 64 KB blocks, read as one sequence: a page of a list is parsed once it is all in. Blocks,
    /// not one array: an array of a page's size would go to the large object heap at each page. Not pooled: the shared
    /// pool would keep blocks of a page after a list, which runs once, for good.
    /// </summary>
    private static async Task<ReadOnlySequence<byte>> ReadBodyAsync(HttpResponseMessage response, long most, CancellationToken cancellationToken)
    {
        const int BlockSize = 64 * 1024;
        var blocks = new List<ReadOnlyMemory<byte>>();
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            for (long total = 0; ; total += BlockSize)
            {
                if (total >= most)
                {
                    throw new InvalidDataException($"a page of the pod list is over {most / (1024 * 1024)} MB: not an API server's page");
                }

                var block = new byte[BlockSize];
                var filled = 0;
                int read;
                while (filled < BlockSize && (read = await stream.ReadAsync(block.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                }

                blocks.Add(block.AsMemory(0, filled));
                if (filled < BlockSize)
                {
                    return BlockSequence.Of(blocks);
                }
            }
        }
    }
}
