using System.Globalization;

namespace DynamicSubset.Routing;

/// <summary>
/// A DestinationRule's <c>trafficPolicy.outlierDetection</c>, with Envoy's semantics: an endpoint that fails
/// <see cref="Consecutive5xxErrors"/> (or <see cref="ConsecutiveGatewayErrors"/>) times in a row leaves every subset's
/// pick set for <see cref="BaseEjectionTime"/> times the number of times it was ejected, at most
/// <see cref="MaxEjectionPercent"/> of the service at once; below <see cref="MinHealthPercent"/> healthy, ejection
/// stops and the service balances over all its endpoints (panic).
/// </summary>
/// <remarks>
/// Failures that never reached the endpoint's application (connection refused or reset, a try that timed out) count
/// as gateway errors, and so as 5xx, as in Envoy without <c>splitExternalLocalOriginErrors</c>.
/// </remarks>
public sealed class OutlierDetectionPolicy
{
    /// <summary>The longest an endpoint stays ejected, however often it was: Envoy's <c>max_ejection_time</c> default.</summary>
    public static readonly TimeSpan MaxEjectionTime = TimeSpan.FromSeconds(300);

    /// <summary>Istio's default <c>consecutive5xxErrors</c>.</summary>
    public const int DefaultConsecutive5xxErrors = 5;

    /// <summary>Istio's default <c>maxEjectionPercent</c>.</summary>
    public const int DefaultMaxEjectionPercent = 10;

    /// <summary>Istio's default <c>interval</c>.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    /// <summary>Istio's default <c>baseEjectionTime</c>.</summary>
    public static readonly TimeSpan DefaultBaseEjectionTime = TimeSpan.FromSeconds(30);

    /// <summary>Initializes a new instance of the <see cref="OutlierDetectionPolicy"/> class; the defaults are Istio's.</summary>
    /// <param name="consecutive5xxErrors">5xx responses in a row that eject an endpoint; 0 turns this check off.</param>
    /// <param name="consecutiveGatewayErrors">502, 503 and 504 responses in a row that eject an endpoint; 0 (the default) turns this check off.</param>
    /// <param name="interval">How often ejections are reviewed: an endpoint returns at the first review after its time is up.</param>
    /// <param name="baseEjectionTime">How long the first ejection lasts; each further one lasts that much longer.</param>
    /// <param name="maxEjectionPercent">The most endpoints ejected at once, as a percentage of the service (at least one).</param>
    /// <param name="minHealthPercent">Below this percentage of healthy endpoints, ejection stops (panic); 0 turns panic off.</param>
    /// <exception cref="RoutingValidationException">A value is out of range; the field path is Istio's.</exception>
    public OutlierDetectionPolicy(
        int consecutive5xxErrors = DefaultConsecutive5xxErrors,
        int consecutiveGatewayErrors = 0,
        TimeSpan? interval = null,
        TimeSpan? baseEjectionTime = null,
        int maxEjectionPercent = DefaultMaxEjectionPercent,
        int minHealthPercent = 0)
    {
        Consecutive5xxErrors = consecutive5xxErrors >= 0 ? consecutive5xxErrors : throw Invalid("consecutive5xxErrors", consecutive5xxErrors, "0 or more");
        ConsecutiveGatewayErrors = consecutiveGatewayErrors >= 0 ? consecutiveGatewayErrors : throw Invalid("consecutiveGatewayErrors", consecutiveGatewayErrors, "0 or more");
        Interval = interval ?? DefaultInterval;
        if (Interval < TimeSpan.FromMilliseconds(1))
        {
            throw new RoutingValidationException("outlierDetection.interval", $"{Interval} is not a duration of at least 1ms", nameof(interval));
        }

        BaseEjectionTime = baseEjectionTime ?? DefaultBaseEjectionTime;
        if (BaseEjectionTime < TimeSpan.FromMilliseconds(1))
        {
            throw new RoutingValidationException("outlierDetection.baseEjectionTime", $"{BaseEjectionTime} is not a duration of at least 1ms", nameof(baseEjectionTime));
        }

        MaxEjectionPercent = maxEjectionPercent is >= 0 and <= 100 ? maxEjectionPercent : throw Invalid("maxEjectionPercent", maxEjectionPercent, "0 to 100");
        MinHealthPercent = minHealthPercent is >= 0 and <= 100 ? minHealthPercent : throw Invalid("minHealthPercent", minHealthPercent, "0 to 100");
    }

    /// <summary>Gets the 5xx responses in a row that eject an endpoint; 0 when this check is off.</summary>
    /// <value>Defaults to 5.</value>
    public int Consecutive5xxErrors { get; }

    /// <summary>Gets the gateway errors (502, 503, 504) in a row that eject an endpoint; 0 when this check is off.</summary>
    /// <value>Defaults to 0.</value>
    public int ConsecutiveGatewayErrors { get; }

    /// <summary>Gets how often ejections are reviewed.</summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan Interval { get; }

    /// <summary>Gets how long the first ejection lasts.</summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan BaseEjectionTime { get; }

    /// <summary>Gets the most endpoints ejected at once, as a percentage of the service; at least one may always be.</summary>
    /// <value>Defaults to 10.</value>
    public int MaxEjectionPercent { get; }

    /// <summary>Gets the percentage of healthy endpoints below which ejection stops.</summary>
    /// <value>Defaults to 0 (never).</value>
    public int MinHealthPercent { get; }

    private static RoutingValidationException Invalid(string field, int value, string expected) =>
        new($"outlierDetection.{field}", $"{value.ToString(CultureInfo.InvariantCulture)} is out of range (expected {expected})", field);
}
