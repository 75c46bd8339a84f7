using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// A <see cref="SubsetResolver"/> fed by named <see cref="DynamicSubsetRoutingOptions"/>: built at start, and
/// republished whenever the bound configuration changes.
/// </summary>
/// <remarks>
/// A change that fails validation is rejected whole: it is logged, recorded in <see cref="LastError"/>, and the
/// last good snapshot keeps serving. (<see cref="IOptionsMonitor{TOptions}.OnChange"/> cannot do this: it never
/// fires for an invalid reload, so this type watches the change tokens itself.)
/// </remarks>
public sealed partial class OptionsSubsetResolver : IDisposable
{
    private readonly IOptionsMonitor<DynamicSubsetRoutingOptions> _monitor;
    private readonly IOptionsMonitorCache<DynamicSubsetRoutingOptions> _cache;
    private readonly ILogger _logger;
    private readonly List<IDisposable> _registrations = [];
    private readonly Dictionary<string, SubsetResolver> _pools = new(StringComparer.Ordinal); // by pool key; written on the reloading thread only

    /// <summary>Initializes a new instance of the <see cref="OptionsSubsetResolver"/> class.</summary>
    /// <param name="name">The options name.</param>
    /// <param name="monitor">The options monitor.</param>
    /// <param name="cache">The options cache, evicted before each re-read.</param>
    /// <param name="sources">The change-token sources of the options.</param>
    /// <param name="logger">The logger for reloads and rejected changes.</param>
    /// <exception cref="OptionsValidationException">The options are invalid at start.</exception>
    public OptionsSubsetResolver(
        string name,
        IOptionsMonitor<DynamicSubsetRoutingOptions> monitor,
        IOptionsMonitorCache<DynamicSubsetRoutingOptions> cache,
        IEnumerable<IOptionsChangeTokenSource<DynamicSubsetRoutingOptions>> sources,
        ILogger<OptionsSubsetResolver> logger)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(logger);
        Name = name;
        _monitor = monitor;
        _cache = cache;
        _logger = logger;

        var options = monitor.Get(name);
        Host = string.IsNullOrWhiteSpace(options.Host) ? null : options.Host;
        Plan = options.ToPlan();
        foreach (var pool in Plan.Pools)
        {
            _pools[pool.Key] = new SubsetResolver(SubsetIndex.Build(pool.Endpoints, pool.Policy));
        }

        Resolver = _pools[""];
        foreach (var source in sources.Where(s => (s.Name ?? Microsoft.Extensions.Options.Options.DefaultName) == name))
        {
            _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, Reload));
        }
    }

    /// <summary>Raised, on the reloading thread, when a configuration change is rejected; the argument is the reason.</summary>
    public event EventHandler<string>? ChangeRejected;

    /// <summary>Raised, on the reloading thread, after a configuration change is published.</summary>
    public event EventHandler? Reloaded;

    /// <summary>Gets the service's host from the options, if they name one.</summary>
    public string? Host { get; private set; }

    /// <summary>Gets the options name.</summary>
    public string Name { get; }

    /// <summary>Gets the resolver of the whole service; it stays the same object across reloads.</summary>
    public SubsetResolver Resolver { get; }

    /// <summary>Gets what the options compiled to: pools and routes.</summary>
    internal OptionsPlan Plan { get; private set; }

    /// <summary>Gets each pool's resolver by pool key, as of the last reload.</summary>
    internal IReadOnlyDictionary<string, SubsetResolver> Pools => _pools;

    /// <summary>Gets the message of the last rejected change, or <see langword="null"/> when the last change was applied.</summary>
    public string? LastError { get; private set; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void Reload()
    {
        // Evict first: the monitor's own change handler may not have run yet, and we must not read the old value.
        _cache.TryRemove(Name);
        try
        {
            var options = _monitor.Get(Name);
            var plan = options.ToPlan();

            // Every pool's next snapshot is built to the side first; only then is anything published.
            var built = plan.Pools.Select(pool => (pool.Key, Index: _pools.TryGetValue(pool.Key, out var existing)
                ? existing.Current.Rebuild(pool.Endpoints, pool.Policy)
                : SubsetIndex.Build(pool.Endpoints, pool.Policy))).ToList();

            // Nothing below can fail: the error is cleared before the new snapshots are visible, so that whoever sees
            // them never sees the last rejection's error beside them (a test caught that order, by chance, in CI).
            LastError = null;
            foreach (var (key, next) in built)
            {
                if (_pools.TryGetValue(key, out var resolver))
                {
                    resolver.Publish(next);
                }
                else
                {
                    _pools[key] = new SubsetResolver(next);
                }
            }

            foreach (var gone in _pools.Keys.Where(k => !built.Exists(b => b.Key == k)).ToList())
            {
                _pools.Remove(gone);
            }

            Plan = plan;
            var index = Resolver.Current;
            Log.Reloaded(_logger, Name, index.Generation, index.EndpointCount, index.Subsets.Length);
            Reloaded?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Validation failures, and anything else a binder or validator throws: the change token's callback runs
            // on whichever thread reloaded the configuration, and nothing may escape into it. The last good serves.
            LastError = e.Message;
            Log.Rejected(_logger, Name, e.Message, Resolver.Current.Generation);
            ChangeRejected?.Invoke(this, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "OptionsReloaded", Level = LogLevel.Information,
            Message = "Dynamic subset routing '{Name}' reloaded from configuration: snapshot {Generation}, {EndpointCount} endpoints, {SubsetCount} subsets.")]
        public static partial void Reloaded(ILogger logger, string name, long generation, int endpointCount, int subsetCount);

        [LoggerMessage(EventId = 2, EventName = "OptionsRejected", Level = LogLevel.Error,
            Message = "Dynamic subset routing '{Name}': configuration change rejected, snapshot {Generation} keeps serving. {Reason}")]
        public static partial void Rejected(ILogger logger, string name, string reason, long generation);
    }
}
