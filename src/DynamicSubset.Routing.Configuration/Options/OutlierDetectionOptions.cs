namespace DynamicSubset.Routing.Configuration;

/// <summary>The DestinationRule's <c>trafficPolicy.outlierDetection</c>; unset fields take Istio's defaults.</summary>
public sealed class OutlierDetectionOptions
{
    /// <summary>Gets or sets <c>consecutive5xxErrors</c>; 5 when unset, 0 turns the check off.</summary>
    public int? Consecutive5xxErrors { get; set; }

    /// <summary>Gets or sets <c>consecutiveGatewayErrors</c>; off when unset.</summary>
    public int? ConsecutiveGatewayErrors { get; set; }

    /// <summary>Gets or sets <c>interval</c>, an Istio duration such as <c>10s</c>; 10s when unset.</summary>
    public string? Interval { get; set; }

    /// <summary>Gets or sets <c>baseEjectionTime</c>, an Istio duration such as <c>30s</c>; 30s when unset.</summary>
    public string? BaseEjectionTime { get; set; }

    /// <summary>Gets or sets <c>maxEjectionPercent</c>; 10 when unset.</summary>
    public int? MaxEjectionPercent { get; set; }

    /// <summary>Gets or sets <c>minHealthPercent</c>; 0 when unset.</summary>
    public int? MinHealthPercent { get; set; }
}
