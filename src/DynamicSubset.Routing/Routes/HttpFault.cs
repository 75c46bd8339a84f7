namespace DynamicSubset.Routing;

/// <summary>
/// Istio's <c>HTTPFaultInjection</c>: a share of the route's requests delayed before they are sent, and a share
/// aborted with a status, answered <c>fault filter abort</c> as Envoy answers.
/// </summary>
public sealed class HttpFault
{
    /// <summary>Gets or initializes the delay, or <see cref="TimeSpan.Zero"/> for none.</summary>
    public TimeSpan Delay { get; init => field = value >= TimeSpan.Zero ? value : throw new RoutingValidationException("delay.fixedDelay", "must not be negative", nameof(Delay)); }

    /// <summary>Gets or initializes the percentage of requests delayed, from 0 to 100.</summary>
    public double DelayPercentage { get; init => field = Percentage(value, "delay.percentage"); } = 100;

    /// <summary>Gets or initializes the HTTP status of an abort, or <see langword="null"/>.</summary>
    public int? AbortStatus { get; init => field = value is null or (>= 200 and <= 599) ? value : throw new RoutingValidationException("abort.httpStatus", $"{value} is not a status from 200 to 599", nameof(AbortStatus)); }

    /// <summary>Gets or initializes the gRPC status of an abort, or <see langword="null"/>.</summary>
    public int? AbortGrpcStatus { get; init => field = value is null or (>= 0 and <= 16) ? value : throw new RoutingValidationException("abort.grpcStatus", $"{value} is not a gRPC status", nameof(AbortGrpcStatus)); }

    /// <summary>Gets or initializes the percentage of requests aborted, from 0 to 100.</summary>
    public double AbortPercentage { get; init => field = Percentage(value, "abort.percentage"); } = 100;

    /// <summary>Whether this request is delayed: a draw against <see cref="DelayPercentage"/>.</summary>
    /// <param name="random">A number from 0 (inclusive) to 1 (exclusive).</param>
    /// <returns><see langword="true"/> to delay it.</returns>
    public bool DelaysThis(double random) => Delay > TimeSpan.Zero && random * 100 < DelayPercentage;

    /// <summary>Whether this request is aborted: a draw against <see cref="AbortPercentage"/>.</summary>
    /// <param name="random">A number from 0 (inclusive) to 1 (exclusive).</param>
    /// <returns><see langword="true"/> to abort it.</returns>
    public bool AbortsThis(double random) => (AbortStatus is not null || AbortGrpcStatus is not null) && random * 100 < AbortPercentage;

    internal static double Percentage(double value, string path) =>
        value is >= 0 and <= 100 ? value : throw new RoutingValidationException(path, $"{value} is not a percentage from 0 to 100", path);
}
