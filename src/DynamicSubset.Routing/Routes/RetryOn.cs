namespace DynamicSubset.Routing;

/// <summary>The conditions a route retries on (Istio's <c>retryOn</c>, Envoy's names).</summary>
[Flags]
public enum RetryOn
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary><c>5xx</c>: any 5xx response, and a try that got no response (connect failure, reset, per-try timeout).</summary>
    ServerError = 1,

    /// <summary><c>gateway-error</c>: a 502, 503 or 504 response, and a per-try timeout.</summary>
    GatewayError = 2,

    /// <summary><c>connect-failure</c>: the connection could not be made.</summary>
    ConnectFailure = 4,

    /// <summary><c>reset</c>: the connection failed before the response headers came, or the try timed out.</summary>
    Reset = 8,

    /// <summary><c>retriable-4xx</c>: a 409 response.</summary>
    Retriable4xx = 16,

    /// <summary><c>retriable-status-codes</c>: a response whose status is in <see cref="RouteRetryPolicy.RetriableStatusCodes"/>.</summary>
    RetriableStatusCodes = 32,

    /// <summary><c>cancelled</c>: a gRPC response whose <c>grpc-status</c> is CANCELLED (1).</summary>
    Cancelled = 64,

    /// <summary><c>deadline-exceeded</c>: a gRPC response whose <c>grpc-status</c> is DEADLINE_EXCEEDED (4).</summary>
    DeadlineExceeded = 128,

    /// <summary><c>internal</c>: a gRPC response whose <c>grpc-status</c> is INTERNAL (13).</summary>
    Internal = 256,

    /// <summary><c>resource-exhausted</c>: a gRPC response whose <c>grpc-status</c> is RESOURCE_EXHAUSTED (8).</summary>
    ResourceExhausted = 512,

    /// <summary><c>unavailable</c>: a gRPC response whose <c>grpc-status</c> is UNAVAILABLE (14).</summary>
    Unavailable = 1024,

    /// <summary>Every gRPC condition.</summary>
    AnyGrpcStatus = Cancelled | DeadlineExceeded | Internal | ResourceExhausted | Unavailable,
}
