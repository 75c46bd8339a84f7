using System.Diagnostics.CodeAnalysis;
using System.Collections.Frozen;

namespace DynamicSubset.Routing;

/// <summary>
/// The catalog of routed services: the one seam between where routing comes from (mesh YAML files, options, a static
/// list, a pushing endpoint source, the cluster) and what uses it (the HttpClient handler, the gateway, the YARP step,
/// the admin view, the CLI). Each entry point takes a catalog and nothing else.
/// </summary>
/// <remarks>
/// <para>
/// A source builds every service of its next state to the side, then publishes them in one swap of
/// <see cref="Current"/> and raises <see cref="Changed"/> after it. A source that fails keeps the last good
/// snapshot serving and records why in <see cref="Status"/>; nothing it throws reaches a request.
/// </para>
/// <para>
/// Readers take <see cref="Current"/> once per request and never lock. A <see cref="RoutedService"/>'s resolver may
/// stay the same object across swaps (its own snapshot changes beneath it), so a reader that holds it keeps routing
/// with the newest endpoints.
/// </para>
/// </remarks>
public abstract class RoutingCatalog : IDisposable
{
    private readonly Lock _publishLock = new();
    private readonly TimeProvider _timeProvider;
    private RoutingCatalogSnapshot _current;
    private RoutingCatalogStatus _status;

    /// <summary>Initializes a new instance of the <see cref="RoutingCatalog"/> class, empty and not yet synced.</summary>
    /// <param name="description">What the catalog reads, for operators: <c>files a.yaml, b.yaml</c>, <c>options 'helloworld'</c>.</param>
    /// <param name="timeProvider">The clock for load times; <see langword="null"/> for the system clock.</param>
    protected RoutingCatalog(string description, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        Description = description;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _current = RoutingCatalogSnapshot.Empty;
        _status = new RoutingCatalogStatus(RoutingCatalogSyncState.Syncing, LastError: null);
    }

    /// <summary>Raised after <see cref="Current"/> or <see cref="Status"/> changes, on the thread that changed it.</summary>
    public event EventHandler<RoutingCatalogChangedEventArgs>? Changed;

    /// <summary>Gets what the catalog reads, for operators.</summary>
    public string Description { get; }

    /// <summary>Gets the services serving now.</summary>
    public RoutingCatalogSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Gets whether the catalog has synced with its source, and the last update it rejected.</summary>
    public RoutingCatalogStatus Status => Volatile.Read(ref _status);

    /// <summary>Gets facts about the source for operators, such as the last resourceVersion seen per watched kind.</summary>
    /// <value>Empty unless the source has some to tell.</value>
    public virtual IReadOnlyDictionary<string, string> SourceDetails => FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// Compiles the catalog's source as it would be with candidate objects applied over it, publishing nothing: the
    /// admin page's "what if". An object of the candidate replaces the source's object of the same kind, namespace and
    /// name; the others are added. Both sides are compiled afresh, the same way, so that only the edit differs.
    /// </summary>
    /// <param name="candidate">The candidate objects, in the source's own format (mesh YAML or JSON for files and clusters).</param>
    /// <param name="preview">The source as it is, and with the candidate applied.</param>
    /// <param name="problem">What is wrong with the candidate (with its line and column), or why this catalog cannot preview.</param>
    /// <returns><see langword="true"/> if the preview was made.</returns>
    public virtual bool TryPreview(string candidate, [NotNullWhen(true)] out RoutingCatalogPreview? preview, [NotNullWhen(false)] out string? problem)
    {
        (preview, problem) = (null, $"{Description}: this catalog cannot preview an edit (files and clusters can)");
        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Publishes the next set of services in one swap, marks the catalog synced, clears the last error, then signals.</summary>
    /// <param name="services">Every service, already built: nothing here can fail halfway.</param>
    /// <param name="defaultService">The service for a request whose host names none; <see langword="null"/> for none.</param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="ArgumentException">Two services claim the same name.</exception>
    protected RoutingCatalogSnapshot Publish(IEnumerable<RoutedService> services, RoutedService? defaultService = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        RoutingCatalogSnapshot previous, next;
        lock (_publishLock)
        {
            previous = _current;
            next = new RoutingCatalogSnapshot(previous.Version + 1, _timeProvider.GetUtcNow(), [.. services], defaultService);
            Volatile.Write(ref _current, next);
            Volatile.Write(ref _status, new RoutingCatalogStatus(RoutingCatalogSyncState.Synced, LastError: null));
        }

        // Signal after the swap and outside the lock, so a handler may read (or publish) again.
        Changed?.Invoke(this, new RoutingCatalogChangedEventArgs(previous, next, RoutingCatalogChange.Published));
        return next;
    }

    /// <summary>Records a rejected update: the current snapshot keeps serving, and <see cref="Status"/> says why.</summary>
    /// <param name="summary">One line: what was rejected, without the rejected content.</param>
    /// <param name="details">Where: one line per problem, such as <c>file:line:column: code field.path</c>.</param>
    protected void ReportRejected(string summary, IReadOnlyList<string>? details = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(summary);
        RoutingCatalogSnapshot current;
        lock (_publishLock)
        {
            current = _current;
            var status = _status;
            Volatile.Write(ref _status, status with { LastError = new RoutingCatalogError(_timeProvider.GetUtcNow(), summary, details ?? []) });
        }

        Changed?.Invoke(this, new RoutingCatalogChangedEventArgs(current, current, RoutingCatalogChange.Rejected));
    }

    /// <summary>Records whether the source is reachable; the current snapshot keeps serving either way.</summary>
    /// <param name="state">The new state.</param>
    protected void SetSyncState(RoutingCatalogSyncState state)
    {
        RoutingCatalogSnapshot current;
        lock (_publishLock)
        {
            current = _current;
            if (_status.SyncState == state)
            {
                return;
            }

            Volatile.Write(ref _status, _status with { SyncState = state });
        }

        Changed?.Invoke(this, new RoutingCatalogChangedEventArgs(current, current, RoutingCatalogChange.SyncState));
    }

    /// <summary>Stops watching the source.</summary>
    /// <param name="disposing">Whether called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}
