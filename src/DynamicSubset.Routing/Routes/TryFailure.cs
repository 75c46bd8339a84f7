namespace DynamicSubset.Routing;

/// <summary>How a request that failed a try was not answered.</summary>
public enum TryFailure
{
    /// <summary>The connection could not be made: nothing reached the endpoint.</summary>
    ConnectFailure = 0,

    /// <summary>The connection failed after the request was sent, before the response headers.</summary>
    Reset = 1,

    /// <summary>The try took longer than its per-try timeout.</summary>
    PerTryTimeout = 2,
}
