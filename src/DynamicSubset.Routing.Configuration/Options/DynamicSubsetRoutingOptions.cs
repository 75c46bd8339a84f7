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

    /// <summary>
    /// Gets or sets the protocol of the service port, as a Service port's <c>appProtocol</c>: <c>grpc</c>, <c>http2</c>
    /// or <c>kubernetes.io/h2c</c> send HTTP/2 with prior knowledge, <c>http</c> HTTP/1.1.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: each request goes in its own version.</value>
    public string? AppProtocol { get; set; }

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

    /// <summary>Gets the DestinationRule's static <c>subsets</c>, which <see cref="Http"/> routes name.</summary>
    [ValidateEnumeratedItems]
    public IList<SubsetOptions> Subsets { get; } = [];

    /// <summary>
    /// Gets the VirtualService's <c>http</c> routes, tried in order; empty: every request is resolved by the service's
    /// own policy. A route without its own <c>headerToDynamicSubsetKey</c> uses <see cref="HeaderToDynamicSubsetKey"/>.
    /// </summary>
    [ValidateEnumeratedItems]
    public IList<HttpRouteOptions> Http { get; } = [];

    /// <summary>Converts the options to a routing policy.</summary>
    /// <returns>The policy.</returns>
    /// <exception cref="RoutingValidationException">A field is invalid; its path mirrors the YAML, for example <c>trafficPolicy.loadBalancer.simple</c>.</exception>
    public RoutingPolicy ToRoutingPolicy() =>
        ToPolicy(TrafficPolicy?.LoadBalancer ?? new(), TrafficPolicy?.OutlierDetection, HeaderToDynamicSubsetKey, "trafficPolicy", "headerToDynamicSubsetKey");

    /// <summary>A policy from a loadBalancer, an outlierDetection and header mappings; paths name the fields for errors.</summary>
    private static RoutingPolicy ToPolicy(LoadBalancerOptions lb, OutlierDetectionOptions? outliers, IList<HeaderToDynamicSubsetKeyOptions> mappingOptions, string trafficPolicyPath, string mappingsPath)
    {
        var ds = lb.DynamicSubset ?? new();
        var dsPath = $"{trafficPolicyPath}.loadBalancer.dynamicSubset";

        var selectors = new List<SubsetSelector>();
        for (var i = 0; i < ds.SubsetSelectors.Count; i++)
        {
            var s = ds.SubsetSelectors[i];
            var path = $"{dsPath}.subsetSelectors[{i}]";
            var fallback = ParseFallback(s.FallbackPolicy, path, allowKeysSubset: true);
            selectors.Add(Prefixed(path, () => new SubsetSelector(s.Keys, fallback, s.FallbackKeysSubset)));
        }

        var global = ParseFallback(ds.FallbackPolicy, dsPath, allowKeysSubset: false) ?? FallbackPolicy.NoFallback;

        // No selectors (and nothing else of dynamicSubset set) is a service without dynamicSubset: plain Istio routing.
        var plain = selectors.Count == 0 && ds.FallbackPolicy is null && ds.DefaultSubset.Count == 0;
        var policy = plain ? DynamicSubsetPolicy.None : Prefixed(dsPath, () => new DynamicSubsetPolicy(selectors, global, ds.DefaultSubset));

        var mappings = new List<HeaderMapping>();
        for (var i = 0; i < mappingOptions.Count; i++)
        {
            var m = mappingOptions[i];
            mappings.Add(Prefixed($"{mappingsPath}[{i}]", () => new HeaderMapping(m.Header!, m.Key!, m.DefaultValue)));
        }

        LoadBalancingPolicy? simple = null;
        if (lb.Simple is not null && !MeshEnums.TryParseSimple(lb.Simple, out simple, out _))
        {
            throw new RoutingValidationException($"{trafficPolicyPath}.loadBalancer.simple", MeshEnums.UnknownSimple(lb.Simple));
        }

        var hash = lb.ConsistentHash is { } ch ? ToConsistentHash(ch, $"{trafficPolicyPath}.loadBalancer.consistentHash") : null;
        if (hash is not null && lb.Simple is not null)
        {
            throw new RoutingValidationException($"{trafficPolicyPath}.loadBalancer.simple", "loadBalancer takes simple or consistentHash, not both");
        }

        var outlierDetection = ToOutlierDetection(outliers, trafficPolicyPath);
        return new RoutingPolicy(policy, plain ? [] : mappings, simple ?? LoadBalancingPolicy.LeastRequest)
        {
            OutlierDetection = outlierDetection,
            ConsistentHash = hash,
            Locality = lb.LocalityLbSetting?.ToLocality($"{trafficPolicyPath}.loadBalancer.localityLbSetting") ?? LocalityLoadBalancing.Default,
        };
    }

    private static ConsistentHashPolicy ToConsistentHash(ConsistentHashOptions o, string path)
    {
        var sources = new List<string>();
        if (o.HttpHeaderName is not null)
        {
            sources.Add("httpHeaderName");
        }

        if (o.HttpCookie is not null)
        {
            sources.Add("httpCookie");
        }

        if (o.HttpQueryParameterName is not null)
        {
            sources.Add("httpQueryParameterName");
        }

        if (o.UseSourceIp == true)
        {
            sources.Add("useSourceIp");
        }

        if (sources.Count != 1)
        {
            throw new RoutingValidationException(path, sources.Count == 0
                ? "one of httpHeaderName, httpCookie, httpQueryParameterName, useSourceIp is needed"
                : $"only one of {string.Join(", ", sources)} may be set");
        }

        var policy = Prefixed(path, () => sources[0] switch
        {
            "httpHeaderName" => ConsistentHashPolicy.ForHeader(o.HttpHeaderName!),
            "httpQueryParameterName" => ConsistentHashPolicy.ForQueryParameter(o.HttpQueryParameterName!),
            "useSourceIp" => ConsistentHashPolicy.ForSourceIp(),
            _ => ConsistentHashPolicy.ForCookie(o.HttpCookie!.Name ?? "", o.HttpCookie.Path, Duration(o.HttpCookie.Ttl, "httpCookie.ttl", allowZero: true)),
        });
        if (o.RingHash is not null && o.Maglev is not null)
        {
            throw new RoutingValidationException($"{path}.maglev", "ringHash and maglev cannot both be set");
        }

        return Prefixed(path, () => o.Maglev is { } maglev
            ? policy with { Algorithm = ConsistentHashAlgorithm.Maglev, TableSize = maglev.TableSize ?? ConsistentHashPolicy.DefaultTableSize }
            : (o.RingHash?.MinimumRingSize ?? o.MinimumRingSize) is { } ring ? policy with { MinimumRingSize = ring } : policy);
    }

    /// <summary>An Istio duration such as <c>10s</c> or <c>250ms</c>: at least 1 ms, or 0 where allowed.</summary>
    private static TimeSpan? Duration(string? text, string field, bool allowZero = false) =>
        text is null ? null
        : MeshDurations.TryParseConfigured(text, allowZero, out var value) ? value
        : throw new RoutingValidationException(field, MeshDurations.Invalid(text, allowZero));

    /// <summary>
    /// Compiles the subsets and routes: one pool per (subset, header mappings) a route uses, the whole service first,
    /// and the routes bound to pool keys (<c>""</c> for the whole service, <c>/v1</c> for a subset).
    /// </summary>
    /// <exception cref="RoutingValidationException">A field is invalid; its path mirrors the YAML, for example <c>http[1].match[0].uri.regex</c>.</exception>
    internal OptionsPlan ToPlan()
    {
        var endpoints = ToEndpoints();
        var basePolicy = ToRoutingPolicy();
        var pools = new List<OptionsPool> { new("", null, basePolicy, endpoints) };
        var byKey = new Dictionary<string, OptionsPool>(StringComparer.Ordinal) { [Signature(null, basePolicy)] = pools[0] };
        var subsets = new Dictionary<string, (SubsetOptions Options, int Index)>(StringComparer.Ordinal);
        for (var i = 0; i < Subsets.Count; i++)
        {
            var subset = Subsets[i];
            if (string.IsNullOrWhiteSpace(subset.Name))
            {
                throw new RoutingValidationException($"subsets[{i}].name", "required field is missing");
            }

            if (!subsets.TryAdd(subset.Name, (subset, i)))
            {
                throw new RoutingValidationException($"subsets[{i}].name", $"subset '{subset.Name}' is already defined by subsets[{subsets[subset.Name].Index}]");
            }
        }

        var routes = new List<OptionsRoute>();
        for (var r = 0; r < Http.Count; r++)
        {
            var route = Http[r];
            var path = $"http[{r}]";
            var mappings = route.HeaderToDynamicSubsetKey.Count > 0 ? route.HeaderToDynamicSubsetKey : HeaderToDynamicSubsetKey;
            var mappingsPath = route.HeaderToDynamicSubsetKey.Count > 0 ? $"{path}.headerToDynamicSubsetKey" : "headerToDynamicSubsetKey";
            if (route.Route.Count == 0)
            {
                throw new RoutingValidationException($"{path}.route", "required field is missing: a route needs at least one destination");
            }

            var destinations = new List<(string Pool, string? Subset, long Weight)>();
            for (var d = 0; d < route.Route.Count; d++)
            {
                var destination = route.Route[d].Destination ?? new();
                var destinationPath = $"{path}.route[{d}].destination";
                if (destination.Host is { } host && Host is { } own && !HostNames.Matches(host, HostNames.ToFqdn(own, "default")) && !string.Equals(host, own, StringComparison.OrdinalIgnoreCase))
                {
                    throw new RoutingValidationException($"{destinationPath}.host", $"'{host}' is not this service ({own}); options describe one service");
                }

                LoadBalancerOptions lb = TrafficPolicy?.LoadBalancer ?? new();
                OutlierDetectionOptions? outliers = TrafficPolicy?.OutlierDetection;
                IReadOnlyList<Endpoint> members = endpoints;
                var policyPath = "trafficPolicy";
                if (destination.Subset is { } name)
                {
                    if (!subsets.TryGetValue(name, out var subset))
                    {
                        throw new RoutingValidationException($"{destinationPath}.subset", $"no subset '{name}' (subsets: {(subsets.Count == 0 ? "none" : string.Join(", ", subsets.Keys))})");
                    }

                    lb = subset.Options.TrafficPolicy?.LoadBalancer ?? lb;
                    outliers = subset.Options.TrafficPolicy?.OutlierDetection ?? outliers;
                    policyPath = subset.Options.TrafficPolicy is null ? policyPath : $"subsets[{subset.Index}].trafficPolicy";
                    members = [.. endpoints.Where(e => subset.Options.Labels.All(l => e.TryGetValue(l.Key, out var v) && v == l.Value))];
                }

                var policy = ToPolicy(lb, outliers, mappings, policyPath, mappingsPath);
                var key = Signature(destination.Subset, policy);
                if (!byKey.TryGetValue(key, out var pool))
                {
                    var baseKey = destination.Subset is null ? "" : $"/{destination.Subset}";
                    pool = new OptionsPool(pools.Exists(p => p.Key == baseKey) ? $"{baseKey} via http[{route.Name ?? r.ToString(System.Globalization.CultureInfo.InvariantCulture)}]" : baseKey, destination.Subset, policy, members);
                    pools.Add(pool);
                    byKey[key] = pool;
                }

                destinations.Add((pool.Key, destination.Subset, route.Route[d].Weight));
            }

            var matches = new List<HttpRouteMatch>();
            for (var m = 0; m < route.Match.Count; m++)
            {
                matches.Add(ToMatch(route.Match[m], $"{path}.match[{m}]"));
            }

            var retries = route.Retries is { } retry ? ToRetries(retry, $"{path}.retries") : null;
            var timeout = Duration(route.Timeout, $"{path}.timeout", allowZero: true) is { } t ? (t == TimeSpan.Zero ? System.Threading.Timeout.InfiniteTimeSpan : t) : (TimeSpan?)null;
            if (destinations.Count > 1 && destinations.Sum(static d => d.Weight) == 0)
            {
                throw new RoutingValidationException($"{path}.route", $"{destinations.Count} destinations and no weight: give each destination a weight (Istio: they are relative)");
            }

            routes.Add(new OptionsRoute(route.Name ?? r.ToString(System.Globalization.CultureInfo.InvariantCulture), [.. matches], destinations, retries, timeout));
        }

        return new OptionsPlan(pools, routes, MeshEnums.PortProtocol(AppProtocol, null));

        static string Signature(string? subset, RoutingPolicy policy) =>
            ServiceCompiler.PoolKey(subset, policy.HeaderMappings);
    }

    private static HttpRouteMatch ToMatch(HttpMatchRequestOptions o, string path)
    {
        if (o.QueryParams.FirstOrDefault(static q => q.Value?.Prefix is not null) is { Key: { } prefixed })
        {
            throw new RoutingValidationException($"{path}.queryParams['{prefixed}'].prefix", "queryParams take exact or regex, not prefix (as in Istio)");
        }

        return new HttpRouteMatch
        {
            Name = o.Name,
            Uri = Match(o.Uri, $"{path}.uri"),
            Scheme = Match(o.Scheme, $"{path}.scheme"),
            Method = Match(o.Method, $"{path}.method"),
            Authority = Match(o.Authority, $"{path}.authority"),
            IgnoreUriCase = o.IgnoreUriCase,
            Port = o.Port,
            Headers = [.. o.Headers.Select(h => new KeyValuePair<string, StringMatch>(h.Key, Match(h.Value, $"{path}.headers['{h.Key}']") ?? StringMatch.Present))],
            QueryParams = [.. o.QueryParams.Select(h => new KeyValuePair<string, StringMatch>(h.Key, Match(h.Value, $"{path}.queryParams['{h.Key}']") ?? StringMatch.Present))],
            WithoutHeaders = [.. o.WithoutHeaders.Select(h => new KeyValuePair<string, StringMatch>(h.Key, Match(h.Value, $"{path}.withoutHeaders['{h.Key}']") ?? StringMatch.Present))],
        };
    }

    private static StringMatch? Match(StringMatchOptions? o, string path)
    {
        if (o is null)
        {
            return null;
        }

        var set = (o.Exact is null ? 0 : 1) + (o.Prefix is null ? 0 : 1) + (o.Regex is null ? 0 : 1);
        if (set > 1)
        {
            throw new RoutingValidationException(path, "only one of exact, prefix, regex may be set");
        }

        return Prefixed(path, () => o.Exact is { } exact ? StringMatch.Exact(exact)
            : o.Prefix is { } prefix ? StringMatch.Prefix(prefix)
            : o.Regex is { } regex ? StringMatch.Regex(regex)
            : StringMatch.Present);
    }

    private static RouteRetryPolicy ToRetries(HttpRetryOptions o, string path)
    {
        var on = RetryOn.ConnectFailure;
        var codes = new List<int>();
        if (o.RetryOn is { } text && MeshEnums.ParseRetryOn(text, out on, codes, []) is { } unknown)
        {
            throw new RoutingValidationException($"{path}.retryOn", MeshEnums.UnknownRetryOn(unknown));
        }

        var perTry = Duration(o.PerTryTimeout, "perTryTimeout");
        return Prefixed(path, () => new RouteRetryPolicy(o.Attempts, on, perTry, codes));
    }

    private static OutlierDetectionPolicy? ToOutlierDetection(OutlierDetectionOptions? o, string path)
    {
        if (o is null)
        {
            return null;
        }

        return Prefixed(path, () => new OutlierDetectionPolicy(
            o.Consecutive5xxErrors ?? OutlierDetectionPolicy.DefaultConsecutive5xxErrors,
            o.ConsecutiveGatewayErrors ?? 0,
            Duration(o.Interval, "outlierDetection.interval"),
            Duration(o.BaseEjectionTime, "outlierDetection.baseEjectionTime"),
            o.MaxEjectionPercent ?? OutlierDetectionPolicy.DefaultMaxEjectionPercent,
            o.MinHealthPercent ?? 0));
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
