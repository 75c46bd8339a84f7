namespace DynamicSubset.Routing;

/// <summary>Where a consistent-hash key comes from (<c>trafficPolicy.loadBalancer.consistentHash</c>).</summary>
public enum ConsistentHashSource
{
    /// <summary>A request header (<c>httpHeaderName</c>).</summary>
    Header = 0,

    /// <summary>A cookie (<c>httpCookie</c>); generated and set on the response when missing and a TTL is given.</summary>
    Cookie = 1,

    /// <summary>A query parameter (<c>httpQueryParameterName</c>).</summary>
    QueryParameter = 2,

    /// <summary>The caller's IP address (<c>useSourceIp</c>).</summary>
    SourceIp = 3,
}
