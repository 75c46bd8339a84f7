using System.ComponentModel.DataAnnotations;

namespace DynamicSubset.Routing.Configuration;

/// <summary>A route's <c>retries</c>.</summary>
public sealed class HttpRetryOptions
{
    /// <summary>Gets or sets <c>attempts</c>: retries after the first try.</summary>
    [Range(0, RouteRetryPolicy.MaxAttempts)]
    public int Attempts { get; set; }

    /// <summary>Gets or sets <c>perTryTimeout</c>, an Istio duration.</summary>
    public string? PerTryTimeout { get; set; }

    /// <summary>Gets or sets <c>retryOn</c>, Istio's comma list; unset: connect failures.</summary>
    public string? RetryOn { get; set; }
}
