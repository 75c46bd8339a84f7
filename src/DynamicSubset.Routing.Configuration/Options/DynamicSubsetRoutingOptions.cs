using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// One service's routing, bound from <c>IConfiguration</c> (appsettings.json and friends). Field names mirror the
/// mesh YAML: <c>trafficPolicy.loadBalancer.dynamicSubset</c> from the DestinationRule,
/// <c>headerToDynamicSubsetKey</c> from the VirtualService, and a static endpoint list.
/// </summary>
/// <example>
/// <code language="json">
/// "helloworld": {
///   "host": "helloworld.default.svc.cluster.local",
///   "trafficPolicy": { "loadBalancer": { "simple": "ROUND_ROBIN", "dynamicSubset": {
///     "subsetSelectors": [ { "keys": [ "stage", "version" ], "fallbackPolicy": "ANY_ENDPOINT" } ] } } },
///   "headerToDynamicSubsetKey": [ { "header": "x-version", "key": "version", "defaultValue": "v3" } ],
///   "endpoints": [ { "address": "10.0.0.5", "port": 5678, "labels": { "stage": "dev", "version": "v1" } } ]
/// }
/// </code>
/// </example>
public sealed class DynamicSubsetRoutingOptions
{
    /// <summary>Gets or sets the service's host, for diagnostics.</summary>
    public string? Host { get; set; }

    /// <summary>Gets or sets the DestinationRule's <c>trafficPolicy</c>.</summary>
    [Required]
    [ValidateObjectMembers]
    public TrafficPolicyOptions TrafficPolicy { get; set; } = new();

    /// <summary>Gets the VirtualService's <c>headerToDynamicSubsetKey</c> mappings.</summary>
    [ValidateEnumeratedItems]
    public IList<HeaderToDynamicSubsetKeyOptions> HeaderToDynamicSubsetKey { get; } = [];

    /// <summary>Gets the service's endpoints.</summary>
    [ValidateEnumeratedItems]
    public IList<EndpointOptions> Endpoints { get; } = [];

    /// <summary>Converts the options to a routing policy.</summary>
    /// <returns>The policy.</returns>
    /// <exception cref="RoutingValidationException">A field is invalid; its path mirrors the YAML, for example <c>trafficPolicy.loadBalancer.simple</c>.</exception>
    public RoutingPolicy ToRoutingPolicy()
    {
        var lb = TrafficPolicy?.LoadBalancer ?? new();
        var ds = lb.DynamicSubset ?? new();
        const string dsPath = "trafficPolicy.loadBalancer.dynamicSubset";

        var selectors = new List<SubsetSelector>();
        for (var i = 0; i < ds.SubsetSelectors.Count; i++)
        {
            var s = ds.SubsetSelectors[i];
            var path = $"{dsPath}.subsetSelectors[{i}]";
            var fallback = ParseFallback(s.FallbackPolicy, path, allowKeysSubset: true);
            selectors.Add(Prefixed(path, () => new SubsetSelector(s.Keys, fallback, s.FallbackKeysSubset)));
        }

        var global = ParseFallback(ds.FallbackPolicy, dsPath, allowKeysSubset: false) ?? FallbackPolicy.NoFallback;
        var policy = Prefixed(dsPath, () => new DynamicSubsetPolicy(selectors, global, ds.DefaultSubset));

        var mappings = new List<HeaderMapping>();
        for (var i = 0; i < HeaderToDynamicSubsetKey.Count; i++)
        {
            var m = HeaderToDynamicSubsetKey[i];
            mappings.Add(Prefixed($"headerToDynamicSubsetKey[{i}]", () => new HeaderMapping(m.Header!, m.Key!, m.DefaultValue)));
        }

        LoadBalancingPolicy? simple = null;
        if (lb.Simple is not null && !MeshEnums.TryParseSimple(lb.Simple, out simple, out _))
        {
            throw new RoutingValidationException("trafficPolicy.loadBalancer.simple", MeshEnums.UnknownSimple(lb.Simple));
        }

        return new RoutingPolicy(policy, mappings, simple ?? LoadBalancingPolicy.LeastRequest) { OutlierDetection = ToOutlierDetection(TrafficPolicy?.OutlierDetection) };
    }

    private static OutlierDetectionPolicy? ToOutlierDetection(OutlierDetectionOptions? o)
    {
        if (o is null)
        {
            return null;
        }

        const string path = "trafficPolicy";
        return Prefixed(path, () => new OutlierDetectionPolicy(
            o.Consecutive5xxErrors ?? 5,
            o.ConsecutiveGatewayErrors ?? 0,
            Duration(o.Interval, "outlierDetection.interval"),
            Duration(o.BaseEjectionTime, "outlierDetection.baseEjectionTime"),
            o.MaxEjectionPercent ?? 10,
            o.MinHealthPercent ?? 0));

        static TimeSpan? Duration(string? text, string field) =>
            text is null ? null
            : MeshDurations.TryParse(text, out var value) && value >= TimeSpan.FromMilliseconds(1) ? value
            : throw new RoutingValidationException(field, $"'{text}' is not a duration of at least 1ms (for example 10s, 250ms, 1m)");
    }

    /// <summary>Converts the endpoint list.</summary>
    /// <returns>The endpoints.</returns>
    /// <exception cref="RoutingValidationException">An endpoint is invalid; the path names it, for example <c>endpoints[2].address</c>.</exception>
    public IReadOnlyList<Endpoint> ToEndpoints()
    {
        var result = new List<Endpoint>(Endpoints.Count);
        for (var i = 0; i < Endpoints.Count; i++)
        {
            var e = Endpoints[i];
            result.Add(Prefixed($"endpoints[{i}]", () => Endpoint.Create(e.Address!, e.Port, e.Labels, e.Healthy, e.Weight, e.Name)));
        }

        return result;
    }

    private static FallbackPolicy? ParseFallback(string? text, string path, bool allowKeysSubset)
    {
        if (text is null)
        {
            return null;
        }

        return MeshEnums.TryParseFallback(text, allowKeysSubset, out var policy)
            ? policy
            : throw new RoutingValidationException($"{path}.fallbackPolicy", MeshEnums.UnknownFallback(text, allowKeysSubset));
    }

    private static T Prefixed<T>(string path, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (RoutingValidationException e)
        {
            throw new RoutingValidationException($"{path}.{e.FieldPath}", e.Reason, e.ParamName);
        }
    }
}

/// <summary>The DestinationRule's <c>trafficPolicy</c>.</summary>
public sealed class TrafficPolicyOptions
{
    /// <summary>Gets or sets <c>loadBalancer</c>.</summary>
    [Required]
    [ValidateObjectMembers]
    public LoadBalancerOptions LoadBalancer { get; set; } = new();

    /// <summary>Gets or sets <c>outlierDetection</c>; <see langword="null"/> (the default) for none.</summary>
    public OutlierDetectionOptions? OutlierDetection { get; set; }
}

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

/// <summary>The DestinationRule's <c>trafficPolicy.loadBalancer</c>.</summary>
public sealed class LoadBalancerOptions
{
    /// <summary>Gets or sets <c>simple</c>: <c>LEAST_REQUEST</c> (the default), <c>ROUND_ROBIN</c> or <c>RANDOM</c>.</summary>
    public string? Simple { get; set; }

    /// <summary>Gets or sets <c>dynamicSubset</c>.</summary>
    [Required]
    public DynamicSubsetOptions DynamicSubset { get; set; } = new();
}

/// <summary>The DestinationRule's <c>trafficPolicy.loadBalancer.dynamicSubset</c>.</summary>
public sealed class DynamicSubsetOptions
{
    /// <summary>Gets the selectors; at least one.</summary>
    public IList<SubsetSelectorOptions> SubsetSelectors { get; } = [];

    /// <summary>Gets or sets the global <c>fallbackPolicy</c>; <c>NO_FALLBACK</c> when unset.</summary>
    public string? FallbackPolicy { get; set; }

    /// <summary>Gets the <c>defaultSubset</c> pairs.</summary>
    public IDictionary<string, string> DefaultSubset { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>One entry of <c>subsetSelectors</c>.</summary>
public sealed class SubsetSelectorOptions
{
    /// <summary>Gets the keys; at least one.</summary>
    public IList<string> Keys { get; } = [];

    /// <summary>Gets or sets the selector's <c>fallbackPolicy</c>.</summary>
    public string? FallbackPolicy { get; set; }

    /// <summary>Gets <c>fallbackKeysSubset</c>, for <c>KEYS_SUBSET</c>.</summary>
    public IList<string> FallbackKeysSubset { get; } = [];
}

/// <summary>One entry of <c>headerToDynamicSubsetKey</c>.</summary>
public sealed class HeaderToDynamicSubsetKeyOptions
{
    /// <summary>Gets or sets the header name.</summary>
    [Required]
    public string? Header { get; set; }

    /// <summary>Gets or sets the key it sets.</summary>
    [Required]
    public string? Key { get; set; }

    /// <summary>Gets or sets the value used when the header is absent.</summary>
    public string? DefaultValue { get; set; }
}

/// <summary>One endpoint.</summary>
public sealed class EndpointOptions
{
    /// <summary>Gets or sets the IP address.</summary>
    [Required]
    public string? Address { get; set; }

    /// <summary>Gets or sets the port.</summary>
    [Range(1, 65535)]
    public int Port { get; set; }

    /// <summary>Gets the labels.</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets a value indicating whether the endpoint is healthy.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool Healthy { get; set; } = true;

    /// <summary>Gets or sets the weight, from 1 to 4294967295 (Istio's uint32).</summary>
    /// <value>Defaults to 1.</value>
    [Range(1L, Endpoint.MaxWeight)]
    public long Weight { get; set; } = 1;

    /// <summary>Gets or sets a display name.</summary>
    public string? Name { get; set; }
}

/// <summary>Checks the options' shape at start: required fields, ranges, list lengths. Source-generated.</summary>
[OptionsValidator]
public sealed partial class DynamicSubsetRoutingOptionsValidator : IValidateOptions<DynamicSubsetRoutingOptions>;

/// <summary>
/// Checks what the shape check cannot: the routing rules themselves (keys, built-ins, KEYS_SUBSET, enum values,
/// addresses), by building the policy and endpoints. Failures name the configuration section and the field.
/// </summary>
/// <param name="optionsName">The options name this validator checks; <see langword="null"/> for all.</param>
/// <param name="sectionPath">The configuration section's path, for messages.</param>
public sealed class DynamicSubsetRoutingOptionsRulesValidator(string? optionsName, string sectionPath) : IValidateOptions<DynamicSubsetRoutingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DynamicSubsetRoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (optionsName is not null && optionsName != name)
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            var policy = options.ToRoutingPolicy();
            SubsetIndex.Build(options.ToEndpoints(), policy);
            return ValidateOptionsResult.Success;
        }
        catch (RoutingValidationException e)
        {
            return ValidateOptionsResult.Fail($"{sectionPath}: {e.Message}");
        }
    }
}
