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
