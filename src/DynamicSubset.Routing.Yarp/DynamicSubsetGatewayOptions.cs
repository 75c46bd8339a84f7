using System.Net;

namespace DynamicSubset.Routing.Yarp;

/// <summary>How the dynamic subset gateway forwards, retries, times out, and which routing headers it trusts.</summary>
public sealed class DynamicSubsetGatewayOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether a request whose Host names no routed service goes to the only service,
    /// when the catalog has exactly one (so that <c>curl http://127.0.0.1:8080/</c> works against a one-service
    /// gateway). Otherwise such a request gets 404 <c>no route</c>.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool RouteUnknownHostsToOnlyService { get; set; } = true;

    /// <summary>
    /// Gets or sets how many times a request is sent again to another endpoint of the same resolved set: after it
    /// could not connect, or, for an idempotent method, after a try timed out. Only requests without a body are sent
    /// again, never to an endpoint already tried, and never once the response has started.
    /// </summary>
    /// <value>Defaults to 2, as Istio's retry attempts.</value>
    public int ConnectRetries { get; set; } = 2;

    /// <summary>
    /// Gets or sets the largest gRPC request body kept so that a call can be retried on another endpoint. A call whose
    /// body is larger, or still streaming when a retry is wanted, is not retried (Envoy's retry buffer does the same).
    /// </summary>
    /// <value>Defaults to 64 KiB.</value>
    public int MaxRetryBodySize { get; set; } = 64 * 1024;

    /// <summary>Gets or sets how long one try may wait for the backend between reads; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</summary>
    /// <value>Defaults to 15 seconds, Envoy's route timeout (YARP's own default is 100 seconds).</value>
    public TimeSpan PerTryTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how long a request may take until its last try starts; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</summary>
    /// <value>Defaults to 45 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// Gets the values each routing header may take, by header name (case-insensitive). A header listed here with a
    /// value outside its list counts as absent, so its default or a fallback applies; headers not listed are taken
    /// as they come. Use it to keep callers from pinning traffic to a pod (<c>x-ip</c>) or a stage they should not reach.
    /// </summary>
    public IDictionary<string, ISet<string>> TrustedValues { get; } = new Dictionary<string, ISet<string>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets the labels of the gateway's own workload, which VirtualService <c>match[].sourceLabels</c> compare (as the
    /// mesh compares an ingress gateway's pod labels). Empty (the default): a block with <c>sourceLabels</c> never matches.
    /// </summary>
    public IDictionary<string, string> SourceLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets the gateway's own locality (<c>region</c>, <c>region/zone</c> or <c>region/zone/subzone</c>), for
    /// DestinationRule <c>localityLbSetting</c>, as the mesh knows an ingress gateway's node. <see langword="null"/> (the
    /// default): picks ignore locality.
    /// </summary>
    public string? Locality { get; set; }

    /// <summary>
    /// Gets the networks whose callers may set routing headers. Empty (the default): every caller may. Otherwise the
    /// routing headers of a caller from elsewhere count as absent, and are removed before the request is forwarded.
    /// </summary>
    public IList<IPNetwork> TrustedNetworks { get; } = [];
}
