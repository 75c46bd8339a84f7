namespace DynamicSubset.Routing.Http;

/// <summary>Why a try failed, and so why a request may be sent again to another endpoint.</summary>
public enum RetryReason
{
    /// <summary>Nothing reached the endpoint: connection refused, reset while connecting, no route to host.</summary>
    ConnectFailure,

    /// <summary>The endpoint did not answer within the per-try timeout.</summary>
    PerTryTimeout,

    /// <summary>The request was sent, and the connection failed before the response headers came.</summary>
    Reset,

    /// <summary>The endpoint answered with a status the route's <c>retryOn</c> retries (a 503 under <c>5xx</c>).</summary>
    Status,
}
