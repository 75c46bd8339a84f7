using DynamicSubset.Routing.Configuration.Yaml;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// The routing catalog of mesh YAML or JSON files: loads them, keeps one <see cref="SubsetResolver"/> per service, and
/// reloads when the files change: on write, and on a new file renamed over an old one (editors' atomic saves,
/// ConfigMap updates).
/// </summary>
/// <remarks>
/// <para>
/// A burst of writes collapses into one reload, at most <see cref="MeshConfigurationWatcherOptions.MaxDelay"/>
/// after its first change. A file is read once it has been quiet for a moment, and read again if it changed while
/// being read, so an edit written in place (truncate, then write) is not caught half-way. A reload that finds an
/// error is rejected whole: it is logged with file:line, recorded in <see cref="LastError"/> and
/// <see cref="RoutingCatalog.Status"/>, and every service keeps its last good snapshot.
/// </para>
/// <para>
/// A reload builds every service's next snapshot first and publishes only when all of them built, so a failure
/// half-way publishes nothing. Resolvers stay the same objects across reloads, so callers may hold them; a service
/// removed from the files is no longer found, and a resolver already handed out keeps its last snapshot.
/// </para>
/// </remarks>
public sealed partial class MeshConfigurationWatcher : RoutingCatalog
{
    // A file written within this much real time may still be mid-write: wait it out before reading.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(30);
    private const int StableReadAttempts = 3;

    private readonly string[] _paths;
    private readonly MeshConfigurationWatcherOptions _options;
    private readonly ILogger _logger;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly ITimer _timer;
    private readonly Lock _scheduleLock = new();
    private readonly Lock _reloadLock = new();
    private readonly MeshServiceResolvers _resolvers;
    private readonly MeshFileDocuments _files; // each file parsed only when its text changed
    private MeshConfiguration _configuration;
    private MeshConfigurationError? _lastError;
    private DateTimeOffset _burstStart;
    private long _fileEvents;
    private bool _pending;
    private bool _eventsLost;
    private int _filesRead;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="MeshConfigurationWatcher"/> class, and loads the files.</summary>
    /// <param name="paths">The files to read and watch.</param>
    /// <param name="logger">The logger for reloads and rejected edits.</param>
    /// <param name="options">Tuning; <see langword="null"/> for the defaults.</param>
    /// <exception cref="MeshConfigurationException">The files are invalid at start.</exception>
    public MeshConfigurationWatcher(IEnumerable<string> paths, ILogger<MeshConfigurationWatcher>? logger = null, MeshConfigurationWatcherOptions? options = null)
        : this(Validate(paths), options ?? new MeshConfigurationWatcherOptions(), logger)
    {
    }

    private MeshConfigurationWatcher(string[] paths, MeshConfigurationWatcherOptions options, ILogger? logger)
        : base("files " + string.Join(", ", paths.Select(Path.GetFileName)), options.TimeProvider)
    {
        _paths = paths;
        _options = options;
        _resolvers = new MeshServiceResolvers(options.TimeProvider);
        _logger = logger ?? NullLogger.Instance;
        _timer = _options.TimeProvider.CreateTimer(static s => ((MeshConfigurationWatcher)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        _files = new MeshFileDocuments(_options.Limits);
        var first = _files.Load(_paths);
        first.ThrowIfInvalid();
        _configuration = first;
        PublishAll(Build(first));
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var files = string.Join(", ", _paths);
            Log.Loaded(_logger, files, first.Services.Length, Current.Version);
        }

        foreach (var directory in _paths.Select(Path.GetDirectoryName).Distinct(StringComparer.Ordinal))
        {
            var watcher = new FileSystemWatcher(directory!)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.DirectoryName,
                IncludeSubdirectories = false,
            };
            watcher.Changed += OnFileEvent;
            watcher.Created += OnFileEvent;
            watcher.Deleted += OnFileEvent;
            watcher.Renamed += OnFileEvent;
            watcher.Error += OnWatcherError;
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    /// <summary>Raised after every reload, applied or rejected, on the reloading thread.</summary>
    public event EventHandler<MeshConfigurationReloadedEventArgs>? Reloaded;

    /// <summary>Gets the watched files, as full paths.</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <inheritdoc/>
    /// <remarks>The files are read again as they are now, and the candidate applied over them.</remarks>
    public override bool TryPreview(string candidate, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoutingCatalogPreview? preview, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var before = MeshConfiguration.Load(_paths, _options.Limits);
        var after = MeshConfiguration.LoadWith(_paths, [new ConfigurationText(MeshPreview.CandidateName, candidate)], _options.Limits);
        return MeshPreview.TryCreate(before, after, out preview, out problem);
    }

    /// <summary>Gets the configuration serving now: the last one that loaded without errors.</summary>
    public MeshConfiguration Configuration => Volatile.Read(ref _configuration);

    /// <summary>Gets the version serving now: 1 at start, one more per applied reload.</summary>
    public long Version => Current.Version;

    /// <summary>Gets when the configuration serving now was applied.</summary>
    public DateTimeOffset LoadedAt => Current.LoadedAt;

    /// <summary>Gets the last rejected reload, or <see langword="null"/> when the last reload was applied.</summary>
    public MeshConfigurationError? LastError => Volatile.Read(ref _lastError);

    /// <summary>Gets how many files the last reload read (the others' stamps showed them unchanged).</summary>
    internal int FilesReadLastReload => Volatile.Read(ref _filesRead);

    internal bool IsReloadPending
    {
        get
        {
            lock (_scheduleLock)
            {
                return _pending;
            }
        }
    }

    /// <summary>Finds the service a request's host names (without its port), with its model from the files.</summary>
    /// <param name="host">The host, for example <c>helloworld</c> or <c>helloworld.default.svc.cluster.local</c>.</param>
    /// <param name="service">The service as the files define it.</param>
    /// <param name="resolver">The service's resolver.</param>
    /// <returns><see langword="true"/> if a service was found.</returns>
    public bool TryGetService(string host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MeshService? service, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SubsetResolver? resolver)
    {
        ArgumentNullException.ThrowIfNull(host);
        service = Current.TryFind(host, out var routed) ? Configuration.FindService(routed.Name) : null;
        resolver = service is null ? null : routed!.Resolver;
        return service is not null;
    }

    /// <summary>
    /// Reloads the files now, as a change would: reads each file whose stamp (the file its path leads to, its length, its
    /// last write time) changed since it was read, or that was written within 2 s of that read.
    /// </summary>
    /// <returns><see langword="true"/> if the files were applied; <see langword="false"/> if they were rejected.</returns>
    public bool Reload() => Reload(checkStable: false) ?? false;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        lock (_reloadLock)
        {
            _disposed = true;
        }

        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _timer.Dispose();
        base.Dispose(disposing);
    }

    private static string[] Validate(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        string[] full = [.. paths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal)];
        return full.Length == 0 ? throw new ArgumentException("At least one file is needed.", nameof(paths)) : full;
    }

    /// <returns>Applied, rejected, or <see langword="null"/> when the files changed while being read (a reload follows).</returns>
    private bool? Reload(bool checkStable)
    {
        lock (_reloadLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var version = Current.Version;
            if (Interlocked.Exchange(ref _eventsLost, false))
            {
                _files.Forget();
            }

            MeshConfiguration? config = null;
            for (var attempt = 0; attempt < StableReadAttempts && config is null; attempt++)
            {
                config = checkStable ? ReadStable() : _files.Load(_paths);
            }

            Volatile.Write(ref _filesRead, _files.LastRead);

            if (config is null)
            {
                Log.Unstable(_logger, version);
                return null;
            }

            var errors = config.Diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
            MeshServiceBuild? built = null;
            if (errors.Count == 0)
            {
                try
                {
                    built = Build(config);
                }
                catch (RoutingValidationException e)
                {
                    // A check that only a whole snapshot can make failed: nothing was published.
                    errors.Add(new ConfigurationDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.InvalidValue, _paths[0], 1, 1, e.FieldPath, e.Reason));
                }
            }

            if (built is null)
            {
                Reject(errors, version, config.Diagnostics);
                return false;
            }

            Volatile.Write(ref _configuration, config);
            Volatile.Write(ref _lastError, null);
            PublishAll(built);
            if (_logger.IsEnabled(LogLevel.Information))
            {
                var warnings = config.Diagnostics.Count(static d => d.Severity == DiagnosticSeverity.Warning);
                Log.Reloaded(_logger, Current.Version, config.Services.Length, warnings);
            }

            Reloaded?.Invoke(this, new MeshConfigurationReloadedEventArgs(true, Current.Version, config.Diagnostics));
            return true;
        }
    }

    private void Reject(List<ConfigurationDiagnostic> errors, long version, IReadOnlyList<ConfigurationDiagnostic> diagnostics)
    {
        Volatile.Write(ref _lastError, new MeshConfigurationError(_options.TimeProvider.GetUtcNow(), errors));
        foreach (var error in errors)
        {
            Log.Rejected(_logger, error.File, error.Line, error.ToString(), version);
        }

        // The status names where, never what: a message may quote the rejected content.
        ReportRejected(
            $"{errors.Count} error(s); version {version} keeps serving",
            [.. errors.Select(static e => $"{e.File}:{e.Line}:{e.Column}: {e.Code} {e.Path}".TrimEnd())]);
        Reloaded?.Invoke(this, new MeshConfigurationReloadedEventArgs(false, version, diagnostics));
    }

    /// <summary>
    /// Reads the files once they are quiet, and only keeps the read if no file changed meanwhile: an editor that
    /// truncates, then writes, must not be read between the two.
    /// </summary>
    private MeshConfiguration? ReadStable()
    {
        var events = Interlocked.Read(ref _fileEvents);
        var before = Stamps();
        var quiet = DateTime.UtcNow - before.Max(static s => s.Written);
        if (quiet < Settle && quiet >= TimeSpan.Zero)
        {
            Thread.Sleep(Settle - quiet); // at most 30 ms, on the reload timer's thread, never a request's
            events = Interlocked.Read(ref _fileEvents);
            before = Stamps();
        }

        // The stamps just taken serve the load too: each path's links are walked once before the read and once after.
        var config = _files.Load(_paths, before);
        return Interlocked.Read(ref _fileEvents) == events && before.SequenceEqual(Stamps()) ? config : null;
    }

    private FileStamp[] Stamps() => [.. _paths.Select(FileStamp.Of)];

    private MeshServiceBuild Build(MeshConfiguration config) => _resolvers.Build(config);

    /// <summary>Publishes what <see cref="Build"/> made: each resolver's snapshot, then the catalog in one swap.</summary>
    private void PublishAll(MeshServiceBuild built) =>
        Publish(_resolvers.Publish(built, static service => $"{service.Namespace}/{service.RuleName}"));

    private void OnFileEvent(object sender, FileSystemEventArgs e)
    {
        // Our files, or a ConfigMap's "..data" symlink swap in the same directory.
        if (Array.IndexOf(_paths, e.FullPath) >= 0 || e.Name?.StartsWith("..", StringComparison.Ordinal) == true ||
            (e is RenamedEventArgs renamed && Array.IndexOf(_paths, renamed.OldFullPath) >= 0))
        {
            Interlocked.Increment(ref _fileEvents);
            Schedule();
        }
    }

    private void OnWatcherError(object sender, ErrorEventArgs e)
    {
        Log.WatchError(_logger, e.GetException().Message);
        Volatile.Write(ref _eventsLost, true); // the next reload reads every file, whatever its stamp
        Interlocked.Increment(ref _fileEvents);
        Schedule(); // events may have been lost: look again
    }

    private void Schedule()
    {
        lock (_scheduleLock)
        {
            if (_disposed)
            {
                return;
            }

            var now = _options.TimeProvider.GetUtcNow();
            if (!_pending)
            {
                _pending = true;
                _burstStart = now;
            }

            var due = Min(now + _options.Debounce, _burstStart + _options.MaxDelay) - now;
            _timer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        lock (_scheduleLock)
        {
            // A Change() that raced a firing timer can fire it twice for one burst: the second finds nothing pending.
            if (!_pending)
            {
                return;
            }

            _pending = false;
        }

        try
        {
            if (Reload(checkStable: true) is null)
            {
                Schedule(); // the files kept changing while being read: read them again after the next quiet spell
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed while the timer fired.
        }
        catch (Exception e)
        {
            // Nothing may escape a timer callback: that would end the process. The last good state keeps serving. The
            // status first, then the log: whoever reads the log line finds the status already saying so.
            ReportRejected($"a reload threw {e.GetType().Name}; version {Current.Version} is serving");
            Log.ReloadFailed(_logger, e.GetType().Name, e.Message, Current.Version);
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, EventName = "ConfigurationLoaded", Level = LogLevel.Information,
            Message = "Loaded mesh configuration from {Files}: {ServiceCount} services, version {Version}.")]
        public static partial void Loaded(ILogger logger, string files, int serviceCount, long version);

        [LoggerMessage(EventId = 11, EventName = "ConfigurationReloaded", Level = LogLevel.Information,
            Message = "Reloaded mesh configuration: version {Version}, {ServiceCount} services, {WarningCount} warnings.")]
        public static partial void Reloaded(ILogger logger, long version, int serviceCount, int warningCount);

        [LoggerMessage(EventId = 12, EventName = "ConfigurationRejected", Level = LogLevel.Error,
            Message = "Rejected edit of {File}:{Line}: {Diagnostic}. Version {Version} keeps serving.")]
        public static partial void Rejected(ILogger logger, string file, int line, string diagnostic, long version);

        [LoggerMessage(EventId = 13, EventName = "WatchError", Level = LogLevel.Warning,
            Message = "File watching failed ({Reason}); reloading to catch up.")]
        public static partial void WatchError(ILogger logger, string reason);

        [LoggerMessage(EventId = 14, EventName = "ConfigurationReloadFailed", Level = LogLevel.Error,
            Message = "A reload of the mesh configuration threw {ExceptionType}: {Reason}. Version {Version} is serving.")]
        public static partial void ReloadFailed(ILogger logger, string exceptionType, string reason, long version);

        [LoggerMessage(EventId = 15, EventName = "ConfigurationUnstable", Level = LogLevel.Debug,
            Message = "The mesh configuration files changed while being read; version {Version} keeps serving until they are quiet.")]
        public static partial void Unstable(ILogger logger, long version);
    }
}
