using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>A change of one watched object, or the end of a kind's first sync.</summary>
internal readonly record struct ObjectChange(string Key, object? Object, bool Synced, long ArrivedAt);

/// <summary>
/// What client-go's reflector does, for one kind in one namespace (or all): list, then watch from the list's
/// resourceVersion with bookmarks; a dropped watch resumes from the last resourceVersion seen; a 410 Gone, thrown or as
/// an ERROR event, relists and sends only the difference, deletions during the gap included; an API server that cannot
/// be reached is retried with doubling backoff and jitter, and nothing is removed because of it.
/// </summary>
internal sealed partial class Informer(
    IKubernetes client, ResourceKind kind, string? ns, ChannelWriter<ObjectChange> changes, KubernetesRoutingOptions options, KubernetesTelemetry telemetry, ILogger logger)
{
    private readonly Dictionary<string, string> _known = new(StringComparer.Ordinal); // key -> resourceVersion
    private string? _resourceVersion;
    private bool _synced;

    public string Name => ns is null ? kind.Kind : $"{kind.Kind} in {ns}";

    /// <summary>Gets the last resourceVersion seen (a list's, an event's or a bookmark's).</summary>
    public string? ResourceVersion => Volatile.Read(ref _resourceVersion);

    /// <summary>Raised when the informer cannot reach the API server (true) or reaches it again (false).</summary>
    public event Action<bool>? Unreachable;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = options.MinBackoff;
        var failing = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (_resourceVersion is null)
                {
                    await RelistAsync(cancellationToken).ConfigureAwait(false);
                }

                if (failing)
                {
                    failing = false;
                    Unreachable?.Invoke(false);
                }

                backoff = options.MinBackoff;
                var gone = await WatchAsync(cancellationToken).ConfigureAwait(false);
                if (gone)
                {
                    Log.Gone(logger, Name, _resourceVersion ?? "");
                    Volatile.Write(ref _resourceVersion, null); // history compacted: relist, and send the difference
                    telemetry.Relist(kind.Kind);
                }
                else
                {
                    telemetry.WatchRestart(kind.Kind); // the server ended the stream (its timeout): resume from where we are
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
            {
                Volatile.Write(ref _resourceVersion, null);
                telemetry.Relist(kind.Kind);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The API server is down, answering errors, or sent what cannot be read: keep what we have, and try
                // again later (a relist if the stream broke). Any exception: an informer that died here would leave
                // its kind stale forever without a word.
                if (!failing)
                {
                    failing = true;
                    Unreachable?.Invoke(true);
                }

                Log.Unreachable(logger, Name, e.GetBaseException().Message, backoff.TotalMilliseconds);
                telemetry.WatchRestart(kind.Kind);
                await Task.Delay(Jitter(backoff), options.TimeProvider, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>
    /// Lists page by page (<c>limit</c>, then <c>continue</c>), sending each page's additions and changes as it arrives so
    /// the catalog compiles while the rest is on its way; then, once the last page is in, the deletions. A continue token
    /// the server has expired (410) starts the list again, as client-go's pager does; what was sent stays sent, and the
    /// second pass sends only what differs.
    /// </summary>
    private async Task RelistAsync(CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? resourceVersion = null;
        string? next = null;
        while (true)
        {
            ListedPage page;
            try
            {
                page = await kind.ListAsync(client, ns, new ListPage(options.ListPageSize > 0 ? options.ListPageSize : null, next), cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (next is not null && e.Response.StatusCode == HttpStatusCode.Gone)
            {
                Log.ContinueExpired(logger, Name, seen.Count);
                telemetry.Relist(kind.Kind);
                seen.Clear();
                next = null;
                continue;
            }

            var now = options.TimeProvider.GetTimestamp();
            foreach (var item in page.Items)
            {
                seen.Add(item.Key);
                if (!_known.TryGetValue(item.Key, out var known) || known != item.ResourceVersion)
                {
                    _known[item.Key] = item.ResourceVersion;
                    await changes.WriteAsync(new ObjectChange(item.Key, item.Payload, false, now), cancellationToken).ConfigureAwait(false);
                }
            }

            resourceVersion = page.ResourceVersion; // every page of one list carries the list's snapshot
            next = page.Continue;
            if (next is null)
            {
                break;
            }
        }

        var at = options.TimeProvider.GetTimestamp();
        foreach (var gone in _known.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _known.Remove(gone);
            await changes.WriteAsync(new ObjectChange(gone, null, false, at), cancellationToken).ConfigureAwait(false);
        }

        Volatile.Write(ref _resourceVersion, resourceVersion);
        if (!_synced)
        {
            _synced = true;
            await changes.WriteAsync(new ObjectChange(kind.Kind, null, true, at), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <returns>Whether the watch ended with 410 Gone.</returns>
    private async Task<bool> WatchAsync(CancellationToken cancellationToken)
    {
        var gone = false;
        void OnError(Exception e)
        {
            // KubernetesClient reports an ERROR event here and then ends the stream without throwing: remember a 410,
            // or the loop would resume from an expired resourceVersion forever.
            gone |= e is KubernetesException { Status.Code: 410 } || (e is KubernetesException k && k.Message.Contains("too old", StringComparison.OrdinalIgnoreCase));
            if (!gone)
            {
                Log.WatchError(logger, Name, e.Message);
            }
        }

        await foreach (var (type, item) in kind.WatchAsync(client, ns, _resourceVersion!, OnError, cancellationToken).ConfigureAwait(false))
        {
            if (item is not { } change)
            {
                continue;
            }

            if (type == WatchEventType.Bookmark)
            {
                Volatile.Write(ref _resourceVersion, change.ResourceVersion);
                continue;
            }

            if (type == WatchEventType.Error)
            {
                // An ERROR event ends the stream: a 410 relists; any other is said, and the watch resumes from where it was.
                var status = change.Payload as JsonObject;
                gone |= status?["code"] is JsonValue code && code.TryGetValue<int>(out var number) && number == 410;
                if (!gone)
                {
                    Log.WatchError(logger, Name, status?["message"]?.ToString() ?? "an ERROR event without a message");
                }

                break;
            }

            var now = options.TimeProvider.GetTimestamp();
            if (type == WatchEventType.Deleted)
            {
                _known.Remove(change.Key);
                await changes.WriteAsync(new ObjectChange(change.Key, null, false, now), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _known[change.Key] = change.ResourceVersion;
                await changes.WriteAsync(new ObjectChange(change.Key, change.Payload, false, now), cancellationToken).ConfigureAwait(false);
            }

            Volatile.Write(ref _resourceVersion, change.ResourceVersion);
        }

        return gone;
    }

    private static TimeSpan Jitter(TimeSpan backoff) => backoff * (0.8 + (Random.Shared.NextDouble() * 0.4));

    private static partial class Log
    {
        [LoggerMessage(EventId = 40, EventName = "KubernetesUnreachable", Level = LogLevel.Warning,
            Message = "Cannot watch {Informer}: {Reason}. The last known state keeps serving; retrying in about {BackoffMs} ms.")]
        public static partial void Unreachable(ILogger logger, string informer, string reason, double backoffMs);

        [LoggerMessage(EventId = 45, EventName = "KubernetesContinueExpired", Level = LogLevel.Information,
            Message = "The list of {Informer} expired between pages (410 for its continue token) after {Listed} objects: listing again from the first page.")]
        public static partial void ContinueExpired(ILogger logger, string informer, int listed);

        [LoggerMessage(EventId = 41, EventName = "KubernetesGone", Level = LogLevel.Information,
            Message = "The history of {Informer} was compacted past resourceVersion {ResourceVersion} (410 Gone): relisting.")]
        public static partial void Gone(ILogger logger, string informer, string resourceVersion);

        [LoggerMessage(EventId = 42, EventName = "KubernetesWatchError", Level = LogLevel.Warning,
            Message = "The watch of {Informer} reported an error: {Reason}.")]
        public static partial void WatchError(ILogger logger, string informer, string reason);
    }
}
