using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Reads a DestinationRule: its trafficPolicy (loadBalancer, dynamicSubset, consistentHash, outlierDetection) and subsets.</summary>
internal sealed partial class DocumentParser
{
    private DestinationRuleDoc? DestinationRule(MappingNode doc, MeshDocument info)
    {
        var spec = r.Map(doc, "spec", "", required: true);
        if (spec is null)
        {
            return null;
        }

        r.CheckFields(spec, "spec", ["host", "trafficPolicy", "subsets"], ["exportTo", "workloadSelector"]);
        var host = r.String(spec, "host", "spec", required: true);
        var policy = r.Map(spec, "trafficPolicy", "spec") is { } tp ? TrafficPolicy(tp, "spec.trafficPolicy") : TrafficPolicyDoc.Empty;

        var subsets = new List<SubsetDoc>();
        var list = r.List(spec, "subsets", "spec");
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < (list?.Items.Count ?? 0); i++)
        {
            var path = DocumentReader.Item("spec.subsets", i);
            if (r.AsMap(list!.Items[i], path) is not { } item)
            {
                continue;
            }

            r.CheckFields(item, path, ["name", "labels", "trafficPolicy"], strict: true);
            var name = r.String(item, "name", path, required: true);
            var labels = r.StringMap(item, "labels", path) ?? [];
            var subsetPolicy = r.Map(item, "trafficPolicy", path) is { } stp ? TrafficPolicy(stp, path + ".trafficPolicy") : null;
            if (name is null)
            {
                continue;
            }

            if (names.TryGetValue(name, out var first))
            {
                r.Error(DiagnosticCodes.Duplicate, item["name"]!, path + ".name", $"subset '{name}' is already defined by {DocumentReader.Item("spec.subsets", first)}");
                continue;
            }

            names[name] = i;
            subsets.Add(new SubsetDoc(name, labels, subsetPolicy, item, path));
        }

        return host is null ? null : new DestinationRuleDoc(info, host, spec["host"]!, policy, subsets);
    }

    /// <summary>A trafficPolicy: loadBalancer (simple, consistentHash, dynamicSubset) and outlierDetection.</summary>
    private TrafficPolicyDoc TrafficPolicy(MappingNode node, string tp, bool portLevel = false)
    {
        if (portLevel)
        {
            r.CheckFields(node, tp, ["port", "loadBalancer", "outlierDetection", "connectionPool"], ["tls"], strict: true);
        }
        else
        {
            r.CheckFields(node, tp, ["loadBalancer", "outlierDetection", "connectionPool", "portLevelSettings"], ["tls", "tunnel", "proxyProtocol"]);
        }

        var (h2Upgrade, useClientProtocol, limits) = r.Map(node, "connectionPool", tp) is { } pool ? ConnectionPool(pool, tp + ".connectionPool") : (false, false, null);
        var loadBalancer = r.Map(node, "loadBalancer", tp);
        var outliers = r.Map(node, "outlierDetection", tp);
        var outlierDetection = outliers is null ? null : OutlierDetection(outliers, tp + ".outlierDetection");

        var lb = tp + ".loadBalancer";
        LoadBalancingPolicy? simple = null;
        DynamicSubsetPolicy? policy = null;
        MappingNode? dynamicSubset = null;
        ConsistentHashPolicy? consistentHash = null;
        LocalityLoadBalancing? locality = null;
        if (loadBalancer is not null)
        {
            r.CheckFields(loadBalancer, lb, ["simple", "dynamicSubset", "consistentHash", "localityLbSetting"], ["warmupDurationSecs", "warmup"]);
            if (r.Map(loadBalancer, "localityLbSetting", lb) is { } setting)
            {
                locality = LocalityLbSetting(setting, lb + ".localityLbSetting");
                if (locality is { Enabled: true } && (!locality.Failover.IsEmpty || !locality.FailoverPriority.IsEmpty) && outliers is null)
                {
                    r.Warning(DiagnosticCodes.FailoverWithoutOutlierDetection, setting, lb + ".localityLbSetting",
                        "failover takes effect only with outlierDetection, as in Istio: without it, no endpoint is known to be unhealthy");
                }
            }

            simple = Simple(loadBalancer, lb);
            dynamicSubset = r.Map(loadBalancer, "dynamicSubset", lb);
            if (dynamicSubset is not null)
            {
                policy = DynamicSubset(dynamicSubset, lb + ".dynamicSubset");
            }

            if (r.Map(loadBalancer, "consistentHash", lb) is { } hash)
            {
                if (loadBalancer["simple"] is { } both)
                {
                    r.Error(DiagnosticCodes.InvalidValue, both, lb + ".simple", "loadBalancer takes simple or consistentHash, not both");
                }

                consistentHash = ConsistentHash(hash, lb + ".consistentHash");
            }
        }

        return new TrafficPolicyDoc(loadBalancer is not null, simple, policy, dynamicSubset, consistentHash, outliers is not null, outlierDetection,
            node["connectionPool"] is not null, h2Upgrade, useClientProtocol) { Limits = limits, Locality = locality, PortLevel = portLevel ? [] : PortLevelSettings(node, tp) };
    }

    /// <summary>
    /// Istio's <c>localityLbSetting</c>: <c>enabled</c>, <c>distribute</c> (weights per <c>from</c> adding up to 100),
    /// <c>failover</c> (region to another region) and <c>failoverPriority</c>; distribute and failover exclude each other.
    /// </summary>
    private LocalityLoadBalancing? LocalityLbSetting(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["enabled", "distribute", "failover", "failoverPriority"], strict: true);
        var errors = r.ErrorCount;
        var enabled = r.Bool(node, "enabled", path) ?? true;

        var distribute = new List<LocalityDistribution>();
        foreach (var (entry, item) in r.Maps(node, "distribute", path))
        {
            r.CheckFields(entry, item, ["from", "to"], strict: true);
            var from = r.String(entry, "from", item, required: true);
            var to = new List<KeyValuePair<string, int>>();
            if (r.Map(entry, "to", item, required: true) is { } targets)
            {
                foreach (var (key, value) in targets.Entries)
                {
                    if (r.AsInt(value, DocumentReader.Child(item + ".to", key.Value), min: 0, max: 100) is { } weight)
                    {
                        to.Add(new(key.Value, weight));
                    }
                }

                var total = to.Sum(static t => t.Value);
                if (to.Count == targets.Entries.Count && total != 100)
                {
                    r.Error(DiagnosticCodes.InvalidValue, targets, item + ".to", $"the weights add up to {total}; they must add up to 100");
                }
            }

            if (from is not null)
            {
                distribute.Add(new LocalityDistribution(from, [.. to]));
            }
        }

        var failover = new List<LocalityFailover>();
        foreach (var (entry, item) in r.Maps(node, "failover", path))
        {
            r.CheckFields(entry, item, ["from", "to"], strict: true);
            var from = r.String(entry, "from", item, required: true);
            var to = r.String(entry, "to", item, required: true);
            if (from is not null && from == to)
            {
                r.Error(DiagnosticCodes.InvalidValue, entry["to"]!, item + ".to", $"a region cannot fail over to itself ('{from}')");
            }
            else if (from is not null && to is not null)
            {
                failover.Add(new LocalityFailover(from, to));
            }
        }

        if (distribute.Count > 0 && failover.Count > 0)
        {
            r.Error(DiagnosticCodes.InvalidValue, node["failover"]!, path + ".failover", "distribute and failover cannot both be set");
        }

        var priority = r.StringList(node, "failoverPriority", path);
        return r.ErrorCount > errors ? null : new LocalityLoadBalancing
        {
            Enabled = enabled,
            Distribute = [.. distribute],
            Failover = [.. failover],
            FailoverPriority = [.. priority?.Select(static p => p.Value) ?? []],
        };
    }

    /// <summary>Istio's <c>portLevelSettings</c>: per service port, a trafficPolicy whose fields replace the rule's for that port.</summary>
    private Dictionary<int, TrafficPolicyDoc> PortLevelSettings(MappingNode node, string tp)
    {
        var result = new Dictionary<int, TrafficPolicyDoc>();
        var list = r.List(node, "portLevelSettings", tp);
        for (var i = 0; i < (list?.Items.Count ?? 0); i++)
        {
            var path = DocumentReader.Item(tp + ".portLevelSettings", i);
            if (r.AsMap(list!.Items[i], path) is not { } item)
            {
                continue;
            }

            int? number = null;
            if (r.Map(item, "port", path, required: true) is { } port)
            {
                r.CheckFields(port, path + ".port", ["number"], strict: true);
                number = r.Int(port, "number", path + ".port", required: true, min: 1, max: 65535);
            }

            var policy = TrafficPolicy(item, path, portLevel: true);
            if (number is { } n && !result.TryAdd(n, policy))
            {
                r.Error(DiagnosticCodes.Duplicate, item["port"]!, path + ".port.number", $"port {n} already has settings");
            }
        }

        return result;
    }

    /// <summary>
    /// A connectionPool: the HTTP version fields (<c>http.h2UpgradePolicy</c>, <c>http.useClientProtocol</c>), the limits
    /// (circuit breaking) and the connections' own settings (connect and idle timeouts, requests per connection).
    /// </summary>
    private (bool H2Upgrade, bool UseClientProtocol, ConnectionPoolPolicy? Limits) ConnectionPool(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["http", "tcp"]);
        int? maxConnections = null;
        TimeSpan? connectTimeout = null, tcpIdle = null, httpIdle = null;
        if (r.Map(node, "tcp", path) is { } tcp)
        {
            var tp = path + ".tcp";
            r.CheckFields(tcp, tp, ["maxConnections", "connectTimeout", "idleTimeout"], ["tcpKeepalive", "maxConnectionDuration"]);
            maxConnections = r.Int(tcp, "maxConnections", tp, min: 1);
            connectTimeout = Duration(tcp, "connectTimeout", tp);
            tcpIdle = Duration(tcp, "idleTimeout", tp);
        }

        int? pending = null, h2Requests = null, retries = null, perConnection = null;
        var upgrade = false;
        var useClientProtocol = false;
        if (r.Map(node, "http", path) is { } http)
        {
            var hp = path + ".http";
            r.CheckFields(http, hp, ["h2UpgradePolicy", "useClientProtocol", "http1MaxPendingRequests", "http2MaxRequests", "maxRetries", "maxRequestsPerConnection", "idleTimeout"],
                ["maxConcurrentStreams"]);
            pending = r.Int(http, "http1MaxPendingRequests", hp, min: 0);
            h2Requests = r.Int(http, "http2MaxRequests", hp, min: 1);
            retries = r.Int(http, "maxRetries", hp, min: 0);
            httpIdle = Duration(http, "idleTimeout", hp);
            perConnection = r.Int(http, "maxRequestsPerConnection", hp, min: 0);
            if (perConnection is > 1)
            {
                r.Warning(DiagnosticCodes.UnsupportedField, http["maxRequestsPerConnection"]!, hp + ".maxRequestsPerConnection",
                    $"only 1 (a connection per request) is carried out: .NET's connection pool cannot close a connection after {perConnection} requests; connections are reused without a count");
                perConnection = null;
            }

            perConnection = perConnection is 0 ? null : perConnection; // Istio's 0 is "no limit"
            if (r.String(http, "h2UpgradePolicy", hp) is { } policy)
            {
                switch (policy)
                {
                    case "UPGRADE": upgrade = true; break;
                    case "DEFAULT" or "DO_NOT_UPGRADE": break;
                    default:
                        r.Error(DiagnosticCodes.InvalidValue, http["h2UpgradePolicy"]!, hp + ".h2UpgradePolicy", $"unknown value '{policy}' (expected DEFAULT, DO_NOT_UPGRADE, UPGRADE)");
                        break;
                }
            }

            useClientProtocol = r.Bool(http, "useClientProtocol", hp) ?? false;
        }

        // Envoy closes a connection idle for the HTTP idle timeout, and the TCP one bounds it too: the shorter counts.
        var idle = tcpIdle is { } t && (httpIdle is null || t < httpIdle) ? tcpIdle : httpIdle;
        var any = maxConnections ?? pending ?? h2Requests ?? retries ?? perConnection;
        var limits = any is null && connectTimeout is null && idle is null ? null
            : Core(node, path, () => new ConnectionPoolPolicy
            {
                MaxConnections = maxConnections,
                MaxPendingRequests = pending,
                Http2MaxRequests = h2Requests,
                MaxRetries = retries,
                ConnectTimeout = connectTimeout,
                IdleTimeout = idle,
                MaxRequestsPerConnection = perConnection,
            });
        return (upgrade, useClientProtocol, limits);
    }

    /// <summary>Istio's <c>consistentHash</c>: exactly one key source, on ringHash or maglev.</summary>
    private ConsistentHashPolicy? ConsistentHash(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["httpHeaderName", "httpCookie", "httpQueryParameterName", "useSourceIp", "ringHash", "maglev", "minimumRingSize"], strict: true);
        string[] sources = ["httpHeaderName", "httpCookie", "httpQueryParameterName", "useSourceIp"];
        var given = sources.Where(k => node[k] is not null).ToList();
        if (given.Count != 1)
        {
            r.Error(given.Count == 0 ? DiagnosticCodes.MissingField : DiagnosticCodes.InvalidValue, node, path,
                given.Count == 0 ? $"one of {string.Join(", ", sources)} is needed" : $"only one of {string.Join(", ", given)} may be set");
            return null;
        }

        var errors = r.ErrorCount;
        ConsistentHashPolicy? policy = null;
        switch (given[0])
        {
            case "httpHeaderName":
                policy = r.String(node, "httpHeaderName", path) is { } header ? Core(node, path, () => ConsistentHashPolicy.ForHeader(header)) : null;
                break;
            case "httpQueryParameterName":
                policy = r.String(node, "httpQueryParameterName", path) is { } query ? Core(node, path, () => ConsistentHashPolicy.ForQueryParameter(query)) : null;
                break;
            case "useSourceIp":
                if (r.Bool(node, "useSourceIp", path) is not true)
                {
                    r.Error(DiagnosticCodes.InvalidValue, node["useSourceIp"]!, path + ".useSourceIp", "must be true when it is the key source");
                    return null;
                }

                policy = ConsistentHashPolicy.ForSourceIp();
                break;
            default:
                if (r.Map(node, "httpCookie", path) is { } cookie)
                {
                    var cookiePath = path + ".httpCookie";
                    r.CheckFields(cookie, cookiePath, ["name", "path", "ttl"], ["attributes"], strict: true);
                    var name = r.String(cookie, "name", cookiePath, required: true);
                    var at = r.String(cookie, "path", cookiePath);
                    var ttl = Duration(cookie, "ttl", cookiePath, allowZero: true);
                    policy = name is null ? null : Core(node, path, () => ConsistentHashPolicy.ForCookie(name, at, ttl));
                }

                break;
        }

        if (policy is null || r.ErrorCount > errors)
        {
            return null;
        }

        if (node["ringHash"] is not null && node["maglev"] is not null)
        {
            r.Error(DiagnosticCodes.InvalidValue, node["maglev"]!, path + ".maglev", "ringHash and maglev cannot both be set");
            return null;
        }

        if (r.Map(node, "maglev", path) is { } maglev)
        {
            r.CheckFields(maglev, path + ".maglev", ["tableSize"], strict: true);
            var size = r.Long(maglev, "tableSize", path + ".maglev", min: 2, max: ConsistentHashPolicy.MaximumTableSize) ?? ConsistentHashPolicy.DefaultTableSize;
            return Core(node, path, () => policy with { Algorithm = ConsistentHashAlgorithm.Maglev, TableSize = (int)size });
        }

        var ringSize = r.Map(node, "ringHash", path) is { } ring
            ? CheckedRing(ring, path + ".ringHash")
            : r.Long(node, "minimumRingSize", path, min: 1, max: ConsistentHashPolicy.MaximumRingSize);
        return ringSize is { } minimum ? Core(node, path, () => policy with { MinimumRingSize = (int)minimum }) : policy;
    }

    private long? CheckedRing(MappingNode ring, string path)
    {
        r.CheckFields(ring, path, ["minimumRingSize"], strict: true);
        return r.Long(ring, "minimumRingSize", path, min: 1, max: ConsistentHashPolicy.MaximumRingSize);
    }

    /// <summary>Istio's <c>outlierDetection</c>; the defaults are Istio's.</summary>
    private OutlierDetectionPolicy? OutlierDetection(MappingNode node, string path)
    {
        r.CheckFields(node, path,
            ["consecutive5xxErrors", "consecutiveErrors", "consecutiveGatewayErrors", "interval", "baseEjectionTime", "maxEjectionPercent", "minHealthPercent"],
            ["splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures"]);
        var errors = r.ErrorCount;
        var consecutive5xx = r.Int(node, "consecutive5xxErrors", path, min: 0) ?? r.Int(node, "consecutiveErrors", path, min: 0) ?? OutlierDetectionPolicy.DefaultConsecutive5xxErrors;
        var consecutiveGateway = r.Int(node, "consecutiveGatewayErrors", path, min: 0) ?? 0;
        var interval = Duration(node, "interval", path);
        var baseEjection = Duration(node, "baseEjectionTime", path);
        var maxEjection = r.Int(node, "maxEjectionPercent", path, min: 0, max: 100) ?? OutlierDetectionPolicy.DefaultMaxEjectionPercent;
        var minHealth = r.Int(node, "minHealthPercent", path, min: 0, max: 100) ?? 0;
        return r.ErrorCount > errors
            ? null
            : Core(node, path, () => new OutlierDetectionPolicy(consecutive5xx, consecutiveGateway, interval, baseEjection, maxEjection, minHealth));
    }

    /// <summary>An Istio duration such as <c>10s</c> or <c>250ms</c>; at least 1 ms, or 0 where <paramref name="allowZero"/>.</summary>
    private TimeSpan? Duration(MappingNode parent, string key, string path, bool allowZero = false)
    {
        if (r.Field(parent, key, path, required: false) is not { } node || r.AsString(node, DocumentReader.Child(path, key)) is not { } text)
        {
            return null;
        }

        if (MeshDurations.TryParseConfigured(text, allowZero, out var duration))
        {
            return duration;
        }

        r.Error(DiagnosticCodes.InvalidValue, node, DocumentReader.Child(path, key), MeshDurations.Invalid(text, allowZero));
        return null;
    }

    private LoadBalancingPolicy? Simple(MappingNode loadBalancer, string path)
    {
        if (r.Field(loadBalancer, "simple", path, required: false) is not { } node || r.AsString(node, path + ".simple") is not { } text)
        {
            return null;
        }

        if (!MeshEnums.TryParseSimple(text, out var policy, out var unsupported))
        {
            r.Error(DiagnosticCodes.UnknownEnum, node, path + ".simple", MeshEnums.UnknownSimple(text));
            return null;
        }

        if (unsupported)
        {
            r.Warning(DiagnosticCodes.UnsupportedField, node, path + ".simple", $"{text} is not supported by DynamicSubset.Routing; LEAST_REQUEST is used");
        }

        return policy;
    }

    private DynamicSubsetPolicy? DynamicSubset(MappingNode node, string path)
    {
        var errors = r.ErrorCount;
        r.CheckFields(node, path, ["subsetSelectors", "fallbackPolicy", "defaultSubset"], strict: true);
        var global = Fallback(node, path, allowKeysSubset: false) ?? FallbackPolicy.NoFallback;
        var defaults = r.StringMap(node, "defaultSubset", path);

        var selectorsNode = r.List(node, "subsetSelectors", path, required: true);
        var selectors = new List<SubsetSelector>();
        for (var i = 0; i < (selectorsNode?.Items.Count ?? 0); i++)
        {
            var itemPath = DocumentReader.Item(path + ".subsetSelectors", i);
            if (r.AsMap(selectorsNode!.Items[i], itemPath) is not { } item)
            {
                continue;
            }

            if (i == r.Limits.MaxSelectorsPerRule)
            {
                r.Error(DiagnosticCodes.Limit, item, itemPath, $"more than {r.Limits.MaxSelectorsPerRule} selectors (MeshConfigurationLimits.MaxSelectorsPerRule)");
                break;
            }

            r.CheckFields(item, itemPath, ["keys", "fallbackPolicy", "fallbackKeysSubset"], strict: true);
            var keys = r.StringList(item, "keys", itemPath, required: true);
            if (keys is { Count: var keyCount } && keyCount > r.Limits.MaxKeysPerSelector)
            {
                r.Error(DiagnosticCodes.Limit, item, DocumentReader.Child(itemPath, "keys"), $"{keyCount} keys, more than {r.Limits.MaxKeysPerSelector} (MeshConfigurationLimits.MaxKeysPerSelector)");
                continue;
            }

            var policy = Fallback(item, itemPath, allowKeysSubset: true);
            var subset = r.StringList(item, "fallbackKeysSubset", itemPath);
            if (keys is null)
            {
                continue;
            }

            var selector = Core(item, itemPath, () => new SubsetSelector(keys.Select(k => k.Value), policy, subset?.Select(k => k.Value)));
            if (selector is not null)
            {
                selectors.Add(selector);
            }
        }

        if (selectorsNode is { Items.Count: 0 })
        {
            r.Error(DiagnosticCodes.InvalidValue, selectorsNode, path + ".subsetSelectors", "at least one selector is needed");
        }

        if (r.ErrorCount > errors)
        {
            return null;
        }

        return Core(node, path, () => new DynamicSubsetPolicy(selectors, global, defaults));
    }

    private FallbackPolicy? Fallback(MappingNode parent, string path, bool allowKeysSubset)
    {
        if (r.Field(parent, "fallbackPolicy", path, required: false) is not { } node || r.AsString(node, path + ".fallbackPolicy") is not { } text)
        {
            return null;
        }

        if (MeshEnums.TryParseFallback(text, allowKeysSubset, out var policy))
        {
            return policy;
        }

        r.Error(DiagnosticCodes.UnknownEnum, node, path + ".fallbackPolicy", MeshEnums.UnknownFallback(text, allowKeysSubset));
        return null;
    }
}
