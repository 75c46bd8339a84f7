using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Tuning for <see cref="MeshConfigurationWatcher"/>.</summary>
public sealed class MeshConfigurationWatcherOptions
{
    /// <summary>Gets or sets how long the files must be quiet before a reload.</summary>
    /// <value>Defaults to 150 ms.</value>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Gets or sets the longest a reload waits after the first change of a burst, however long the burst.</summary>
    /// <value>Defaults to 750 ms, so a change applies within 1 s.</value>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(750);

    /// <summary>Gets or sets what the reader accepts: file size, nesting, aliases, endpoints and more.</summary>
    /// <value>Defaults to <see cref="MeshConfigurationLimits.Default"/>.</value>
    public MeshConfigurationLimits Limits { get; set; } = MeshConfigurationLimits.Default;

    /// <summary>Gets or sets the time source.</summary>
    /// <value>Defaults to <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>The outcome of one reload.</summary>
/// <param name="succeeded">Whether the new configuration was applied.</param>
/// <param name="version">The configuration version serving after the reload.</param>
/// <param name="diagnostics">The reload's diagnostics.</param>
public sealed class MeshConfigurationReloadedEventArgs(bool succeeded, long version, IReadOnlyList<ConfigurationDiagnostic> diagnostics) : EventArgs
{
    /// <summary>Gets a value indicating whether the new configuration was applied.</summary>
    public bool Succeeded { get; } = succeeded;

    /// <summary>Gets the configuration version serving after the reload.</summary>
    public long Version { get; } = version;

    /// <summary>Gets the reload's diagnostics; for a rejected reload, its errors come first.</summary>
    public IReadOnlyList<ConfigurationDiagnostic> Diagnostics { get; } = diagnostics;
}

/// <summary>A rejected reload: when, and why.</summary>
/// <param name="At">When the reload was rejected.</param>
/// <param name="Errors">The errors, each with file:line:column.</param>
public sealed record MeshConfigurationError(DateTimeOffset At, IReadOnlyList<ConfigurationDiagnostic> Errors);

/// <summary>
/// Loads mesh YAML or JSON files, keeps one <see cref="SubsetResolver"/> per service, and reloads when the files
/// change: on write, and on a new file renamed over an old one (editors' atomic saves, ConfigMap updates).
/// </summary>
/// <remarks>
/// <para>
/// A burst of writes collapses into one reload, at most <see cref="MeshConfigurationWatcherOptions.MaxDelay"/>
/// after its first change. A reload that finds an error is rejected whole: it is logged with file:line, recorded in
/// <see cref="LastError"/>, and every resolver keeps its last good snapshot.
/// </para>
/// <para>
/// Resolvers stay the same objects across reloads, so callers may hold them. A service removed from the files is
/// no longer found; a resolver already handed out keeps its last snapshot.
/// </para>
/// </remarks>
public sealed partial class MeshConfigurationWatcher : IDisposable
{
    private readonly string[] _paths;
    private readonly MeshConfigurationWatcherOptions _options;
    private readonly ILogger _logger;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly ITimer _timer;
    private readonly Lock _scheduleLock = new();
    private readonly Lock _reloadLock = new();
    private readonly Dictionary<string, SubsetResolver> _resolvers = new(StringComparer.Ordinal);
    private State _state;
    private DateTimeOffset _burstStart;
    private bool _pending;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="MeshConfigurationWatcher"/> class, and loads the files.</summary>
    /// <param name="paths">The files to read and watch.</param>
    /// <param name="logger">The logger for reloads and rejected edits.</param>
    /// <param name="options">Tuning; <see langword="null"/> for the defaults.</param>
    /// <exception cref="MeshConfigurationException">The files are invalid at start.</exception>
    public MeshConfigurationWatcher(IEnumerable<string> paths, ILogger<MeshConfigurationWatcher>? logger = null, MeshConfigurationWatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _paths = [.. paths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal)];
        if (_paths.Length == 0)
        {
            throw new ArgumentException("At least one file is needed.", nameof(paths));
        }

        _options = options ?? new MeshConfigurationWatcherOptions();
        _logger = logger ?? NullLogger<MeshConfigurationWatcher>.Instance;
        _timer = _options.TimeProvider.CreateTimer(static s => ((MeshConfigurationWatcher)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        var first = MeshConfiguration.Load(_paths, _options.Limits);
        first.ThrowIfInvalid();
        _state = Apply(first, version: 1);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var files = string.Join(", ", _paths);
            Log.Loaded(_logger, files, first.Services.Length, 1);
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

    /// <summary>Gets the configuration serving now: the last one that loaded without errors.</summary>
    public MeshConfiguration Current => Volatile.Read(ref _state).Configuration;

    /// <summary>Gets the version of <see cref="Current"/>: 1 at start, one more per applied reload.</summary>
    public long Version => Volatile.Read(ref _state).Version;

    /// <summary>Gets when <see cref="Current"/> was applied.</summary>
    public DateTimeOffset LoadedAt => Volatile.Read(ref _state).LoadedAt;

    /// <summary>Gets the last rejected reload, or <see langword="null"/> when the last reload was applied.</summary>
    public MeshConfigurationError? LastError { get; private set; }

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

    /// <summary>Finds the service a request's host names (without its port): its own host, a VirtualService host, or a short name.</summary>
    /// <param name="host">The host, for example <c>helloworld</c> or <c>helloworld.default.svc.cluster.local</c>.</param>
    /// <param name="service">The service.</param>
    /// <param name="resolver">The service's resolver.</param>
    /// <returns><see langword="true"/> if a service was found.</returns>
    public bool TryGetService(string host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MeshService? service, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SubsetResolver? resolver)
    {
        ArgumentNullException.ThrowIfNull(host);
        var state = Volatile.Read(ref _state);
        if (state.ByHost.TryGetValue(host.TrimEnd('.'), out var entry))
        {
            (service, resolver) = entry;
            return true;
        }

        service = null;
        resolver = null;
        return false;
    }

    /// <summary>Reloads the files now, as a change would.</summary>
    /// <returns><see langword="true"/> if the files were applied; <see langword="false"/> if they were rejected.</returns>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var config = MeshConfiguration.Load(_paths, _options.Limits);
            var current = Volatile.Read(ref _state);
            if (config.HasErrors)
            {
                var errors = config.Diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
                LastError = new MeshConfigurationError(_options.TimeProvider.GetUtcNow(), errors);
                foreach (var error in errors)
                {
                    Log.Rejected(_logger, error.File, error.Line, error.ToString(), current.Version);
                }

                Reloaded?.Invoke(this, new MeshConfigurationReloadedEventArgs(false, current.Version, config.Diagnostics));
                return false;
            }

            var next = Apply(config, current.Version + 1);
            Volatile.Write(ref _state, next);
            LastError = null;
            if (_logger.IsEnabled(LogLevel.Information))
            {
                var warnings = config.Diagnostics.Count(static d => d.Severity == DiagnosticSeverity.Warning);
                Log.Reloaded(_logger, next.Version, config.Services.Length, warnings);
            }
            Reloaded?.Invoke(this, new MeshConfigurationReloadedEventArgs(true, next.Version, config.Diagnostics));
            return true;
        }
    }

    /// <inheritdoc />
    public void Dispose()
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
    }

    /// <summary>Publishes each service's new snapshot to its resolver (created on first sight), and indexes every host name.</summary>
    private State Apply(MeshConfiguration config, long version)
    {
        var byHost = new Dictionary<string, (MeshService, SubsetResolver)>(StringComparer.OrdinalIgnoreCase);
        foreach (var service in config.Services)
        {
            if (_resolvers.TryGetValue(service.Host, out var resolver))
            {
                resolver.Replace(service.Endpoints, service.Policy);
            }
            else
            {
                _resolvers[service.Host] = resolver = new SubsetResolver(service.BuildIndex());
            }

            foreach (var name in service.Hosts.SelectMany(ShortNames))
            {
                byHost.TryAdd(name, (service, resolver));
            }
        }

        return new State(config, version, _options.TimeProvider.GetUtcNow(), byHost.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The names a pod's DNS search path resolves to <paramref name="host"/>.</summary>
    private static IEnumerable<string> ShortNames(string host)
    {
        yield return host;
        const string suffix = "." + HostNames.ClusterSuffix;
        if (host.EndsWith(suffix, StringComparison.Ordinal) && host[..^suffix.Length].Split('.') is [var name, var ns])
        {
            yield return name;
            yield return $"{name}.{ns}";
            yield return $"{name}.{ns}.svc";
        }
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e)
    {
        // Our files, or a ConfigMap's "..data" symlink swap in the same directory.
        if (Array.IndexOf(_paths, e.FullPath) >= 0 || e.Name?.StartsWith("..", StringComparison.Ordinal) == true ||
            (e is RenamedEventArgs renamed && Array.IndexOf(_paths, renamed.OldFullPath) >= 0))
        {
            Schedule();
        }
    }

    private void OnWatcherError(object sender, ErrorEventArgs e)
    {
        Log.WatchError(_logger, e.GetException().Message);
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
            Reload();
        }
        catch (ObjectDisposedException)
        {
            // Disposed while the timer fired.
        }
        catch (Exception e)
        {
            // Nothing may escape a timer callback: that would end the process. The last good state keeps serving.
            Log.ReloadFailed(_logger, e.GetType().Name, e.Message, Version);
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private sealed record State(MeshConfiguration Configuration, long Version, DateTimeOffset LoadedAt, FrozenDictionary<string, (MeshService, SubsetResolver)> ByHost);

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

        [LoggerMessage(EventId = 14, EventName = "ConfigurationReloadFailed", Level = LogLevel.Error,
            Message = "Reloading the mesh configuration failed ({ExceptionType}: {Reason}). Version {Version} keeps serving.")]
        public static partial void ReloadFailed(ILogger logger, string exceptionType, string reason, long version);

        [LoggerMessage(EventId = 13, EventName = "WatchError", Level = LogLevel.Warning,
            Message = "File watching failed ({Reason}); reloading to catch up.")]
        public static partial void WatchError(ILogger logger, string reason);
    }
}
