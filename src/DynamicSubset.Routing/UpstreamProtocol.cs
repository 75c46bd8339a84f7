namespace DynamicSubset.Routing;

/// <summary>
/// The HTTP version a service's endpoints are sent requests in, as Istio selects it from the Service port
/// (<c>appProtocol</c>, else the port name's prefix) and the DestinationRule's <c>connectionPool.http</c>.
/// </summary>
public enum UpstreamProtocol
{
    /// <summary>The version the request came in (Istio's <c>useClientProtocol</c>, and its choice for a port of unknown protocol).</summary>
    ClientProtocol = 0,

    /// <summary>HTTP/1.1: an <c>http</c> port.</summary>
    Http1 = 1,

    /// <summary>
    /// HTTP/2 with prior knowledge (cleartext, one multiplexed pool per endpoint): a <c>grpc</c>, <c>grpc-web</c>,
    /// <c>http2</c> or <c>h2c</c> port, or an <c>http</c> port under <c>h2UpgradePolicy: UPGRADE</c>.
    /// </summary>
    Http2 = 2,
}
