using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>One destination of a route.</summary>
public sealed class HttpRouteDestinationOptions
{
    /// <summary>Gets or sets the destination.</summary>
    public DestinationOptions Destination { get; set; } = new();

    /// <summary>Gets or sets the relative weight, when the route has several destinations.</summary>
    [Range(0L, uint.MaxValue)]
    public long Weight { get; set; }
}
