using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Http;

/// <summary>How the dynamic subset handler of one named HttpClient behaves.</summary>
public sealed class DynamicSubsetHttpOptions
{
    /// <summary>
    /// Gets or sets the service every request of this client goes to, by any of its names (short names work).
    /// <see langword="null"/> (the default): the service the request's own host names; requests to hosts the catalog
    /// does not route pass through untouched.
    /// </summary>
    public string? Service { get; set; }

    /// <summary>Gets or sets a value indicating whether the Host header keeps the logical service name when the request is sent to an endpoint's IP.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool PreserveHostHeader { get; set; } = true;

    /// <summary>Gets or sets what happens when no endpoint can take a request, or every try timed out.</summary>
    /// <value>Defaults to <see cref="RoutingFailureBehavior.Respond"/>.</value>
    public RoutingFailureBehavior FailureBehavior { get; set; } = RoutingFailureBehavior.Respond;

    /// <summary>
    /// Gets or sets how many times a request is sent again to another endpoint of the same resolved set: after it
    /// could not connect, or, for an idempotent method, after a try timed out. Only a body that can be read again is
    /// sent again, and never to an endpoint already tried. A VirtualService route's <c>retries</c> replace this for the
    /// requests it routes.
    /// </summary>
    /// <value>Defaults to 2, as Istio's retry attempts.</value>
    [Range(0, 16)]
    public int ConnectRetries { get; set; } = 2;

    /// <summary>
    /// Gets or sets how long one try may wait for the response headers; <see cref="Timeout.InfiniteTimeSpan"/> for no
    /// limit. A route's <c>retries.perTryTimeout</c> replaces it.
    /// </summary>
    /// <value>Defaults to 15 seconds, Envoy's route timeout.</value>
    public TimeSpan PerTryTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how long a request may take in all, retries included; <see cref="Timeout.InfiniteTimeSpan"/> for no
    /// limit. A route's <c>timeout</c> replaces it.
    /// </summary>
    /// <value>Defaults to 45 seconds: three tries.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// Gets the labels of this application's own workload, which VirtualService <c>match[].sourceLabels</c> compare, as a
    /// sidecar compares its pod's labels. Empty (the default): a block with <c>sourceLabels</c> never matches.
    /// </summary>
    public IDictionary<string, string> SourceLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets this application's own locality (<c>region</c>, <c>region/zone</c> or <c>region/zone/subzone</c>), for
    /// DestinationRule <c>localityLbSetting</c>, as a sidecar knows its node's. <see langword="null"/> (the default):
    /// picks ignore locality.
    /// </summary>
    [System.ComponentModel.DataAnnotations.RegularExpression(@"^[^/\s]+(/[^/\s]*){0,2}$", ErrorMessage = "Locality must be region, region/zone or region/zone/subzone.")]
    public string? Locality { get; set; }
}
