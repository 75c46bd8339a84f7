namespace DynamicSubset.Routing.Configuration;

/// <summary>A route's destination: this service, or one of its static subsets.</summary>
public sealed class DestinationOptions
{
    /// <summary>Gets or sets the host; options describe one service, so it may be left out, and must name that service when set.</summary>
    public string? Host { get; set; }

    /// <summary>Gets or sets the static subset, or <see langword="null"/> for the whole service.</summary>
    public string? Subset { get; set; }
}
