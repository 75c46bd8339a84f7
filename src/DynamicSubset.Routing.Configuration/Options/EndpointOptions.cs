using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>One endpoint.</summary>
public sealed class EndpointOptions
{
    /// <summary>Gets or sets the IP address.</summary>
    [Required]
    public string? Address { get; set; }

    /// <summary>Gets or sets the port.</summary>
    [Range(1, 65535)]
    public int Port { get; set; }

    /// <summary>Gets the labels.</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets a value indicating whether the endpoint is healthy.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool Healthy { get; set; } = true;

    /// <summary>Gets or sets the weight, from 1 to 4294967295 (Istio's uint32).</summary>
    /// <value>Defaults to 1.</value>
    [Range(1L, Endpoint.MaxWeight)]
    public long Weight { get; set; } = 1;

    /// <summary>Gets or sets a display name.</summary>
    public string? Name { get; set; }
}
