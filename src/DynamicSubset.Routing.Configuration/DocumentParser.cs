using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Reads the documents of one file into a <see cref="DocumentSet"/>, reporting every problem.</summary>
internal sealed class DocumentParser(DocumentReader r)
{
    private int _regexes; // in this file, against MeshConfigurationLimits.MaxRegexesPerFile

    private static readonly string[] IstioGroups = ["networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1"];

    public DocumentSet Parse(List<YamlNode> documents)
    {
        var set = new DocumentSet();
        foreach (var document in documents)
        {
            if (document is ScalarNode { IsNull: true })
            {
                continue; // an empty document, e.g. after a trailing '---'
            }

            if (r.AsMap(document, "") is { } map)
            {
                ParseDocument(map, set, inheritedKind: null);
            }
        }

        return set;
    }

    private void ParseDocument(MappingNode doc, DocumentSet set, string? inheritedKind)
    {
        var kind = r.String(doc, "kind", "", required: inheritedKind is null) ?? inheritedKind;
        var apiVersion = r.String(doc, "apiVersion", "", required: inheritedKind is null) ?? "v1";
        if (kind is null)
        {
            return;
        }

        var metadata = r.Map(doc, "metadata", "");
        var name = metadata is null ? "" : r.String(metadata, "name", "metadata") ?? "";
        var ns = metadata is null ? "default" : r.String(metadata, "namespace", "metadata") ?? "default";
        var info = new MeshDocument(kind, apiVersion, name, ns, r.File, doc.Position.Line);

        if (kind == "List" || (kind.EndsWith("List", StringComparison.Ordinal) && doc["items"] is not null))
        {
            // kubectl's "kind: List", or a typed list such as PodList whose items may omit their kind.
            var items = r.List(doc, "items", "", required: true);
            for (var i = 0; i < (items?.Items.Count ?? 0); i++)
            {
                if (r.AsMap(items!.Items[i], DocumentReader.Item("items", i)) is { } item)
                {
                    ParseDocument(item, set, kind == "List" ? null : kind[..^"List".Length]);
                }
            }

            return;
        }

        var istio = Array.IndexOf(IstioGroups, apiVersion) >= 0;
        var known = kind switch
        {
            "DestinationRule" or "VirtualService" or "ServiceEntry" or "WorkloadEntry" => istio,
            "Service" or "Pod" => apiVersion == "v1",
            _ => false,
        };
        if (!known)
        {
            r.Info(DiagnosticCodes.SkippedKind, doc, "", $"skipped {kind} ({apiVersion}) '{name}': not a kind DynamicSubset.Routing reads");
            return;
        }

        RequireName(doc, metadata, name);
        set.All.Add(info);
        switch (kind)
        {
            case "DestinationRule":
                AddIfRead(set.DestinationRules, DestinationRule(doc, info));
                break;
            case "VirtualService":
                set.VirtualServices.Add(VirtualService(doc, info));
                break;
            case "ServiceEntry":
                AddIfRead(set.ServiceEntries, ServiceEntry(doc, info));
                break;
            case "WorkloadEntry":
                AddIfRead(set.WorkloadEntries, r.Map(doc, "spec", "", required: true) is { } spec ? Workload(spec, "spec", info, requireAddress: true) : null);
                break;
            case "Service":
                set.Services.Add(Service(doc, info));
                break;
            default:
                AddIfRead(set.Pods, Pod(doc, info, metadata));
                break;
        }
    }

    private static void AddIfRead<T>(List<T> list, T? item)
        where T : class
    {
        if (item is not null)
        {
            list.Add(item);
        }
    }

    private void RequireName(MappingNode doc, MappingNode? metadata, string name)
    {
        if (name.Length == 0 && metadata is null)
        {
            r.Error(DiagnosticCodes.MissingField, doc, "metadata.name", "required field is missing");
        }
        else if (name.Length == 0)
        {
            r.Error(DiagnosticCodes.MissingField, metadata!, "metadata.name", "required field is missing");
        }
    }

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
    private TrafficPolicyDoc TrafficPolicy(MappingNode node, string tp)
    {
        r.CheckFields(node, tp, ["loadBalancer", "outlierDetection"], ["connectionPool", "tls", "portLevelSettings", "tunnel", "proxyProtocol"]);
        var loadBalancer = r.Map(node, "loadBalancer", tp);
        var outliers = r.Map(node, "outlierDetection", tp);
        var outlierDetection = outliers is null ? null : OutlierDetection(outliers, tp + ".outlierDetection");

        var lb = tp + ".loadBalancer";
        LoadBalancingPolicy? simple = null;
        DynamicSubsetPolicy? policy = null;
        MappingNode? dynamicSubset = null;
        ConsistentHashPolicy? consistentHash = null;
        if (loadBalancer is not null)
        {
            r.CheckFields(loadBalancer, lb, ["simple", "dynamicSubset", "consistentHash"], ["localityLbSetting", "warmupDurationSecs", "warmup"]);
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

        return new TrafficPolicyDoc(loadBalancer is not null, simple, policy, dynamicSubset, consistentHash, outliers is not null, outlierDetection);
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
        var consecutive5xx = r.Int(node, "consecutive5xxErrors", path, min: 0) ?? r.Int(node, "consecutiveErrors", path, min: 0) ?? 5;
        var consecutiveGateway = r.Int(node, "consecutiveGatewayErrors", path, min: 0) ?? 0;
        var interval = Duration(node, "interval", path) ?? TimeSpan.FromSeconds(10);
        var baseEjection = Duration(node, "baseEjectionTime", path) ?? TimeSpan.FromSeconds(30);
        var maxEjection = r.Int(node, "maxEjectionPercent", path, min: 0, max: 100) ?? 10;
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

    private VirtualServiceDoc VirtualService(MappingNode doc, MeshDocument info)
    {
        var hosts = new List<string>();
        var routes = new List<HttpRouteDoc>();
        var spec = r.Map(doc, "spec", "", required: true);
        if (spec is null)
        {
            return new(info, hosts, routes, null);
        }

        r.CheckFields(spec, "spec", ["hosts", "http"], ["gateways", "tcp", "tls", "exportTo"]);
        hosts.AddRange(r.StringList(spec, "hosts", "spec", required: true)?.Select(h => HostNames.ToFqdn(h.Value, info.Namespace)) ?? []);
        var http = r.List(spec, "http", "spec");
        for (var i = 0; i < (http?.Items.Count ?? 0); i++)
        {
            var routePath = DocumentReader.Item("spec.http", i);
            if (r.AsMap(http!.Items[i], routePath) is not { } route)
            {
                continue;
            }

            if (i == r.Limits.MaxRoutesPerVirtualService)
            {
                r.Error(DiagnosticCodes.Limit, route, routePath, $"more than {r.Limits.MaxRoutesPerVirtualService} routes (MeshConfigurationLimits.MaxRoutesPerVirtualService)");
                break;
            }

            r.CheckFields(
                route,
                routePath,
                ["name", "headerToDynamicSubsetKey", "route", "match", "retries", "timeout"],
                ["fault", "mirror", "mirrorPercentage", "mirrorPercent", "mirrors", "rewrite", "redirect", "corsPolicy", "headers", "delegate", "directResponse"]);
            var name = r.String(route, "name", routePath);
            var matches = Matches(route, routePath);
            var destinations = Destinations(route, routePath, info);
            var retries = r.Map(route, "retries", routePath) is { } retryNode ? Retries(retryNode, routePath + ".retries") : null;
            var timeout = Duration(route, "timeout", routePath, allowZero: true) is { } t ? (t == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : t) : (TimeSpan?)null;
            if (destinations.Count == 0 && route["route"] is not SequenceNode { Items.Count: > 0 } && route["redirect"] is null && route["directResponse"] is null && route["delegate"] is null)
            {
                r.Error(DiagnosticCodes.MissingField, (YamlNode?)route["route"] ?? route, routePath + ".route", "required field is missing: a route needs at least one destination");
            }

            routes.Add(new HttpRouteDoc(i, name, Mappings(route, routePath), route["headerToDynamicSubsetKey"], matches, destinations, retries, timeout, route, routePath));
        }

        return new(info, hosts, routes, spec["hosts"]);
    }

    /// <summary>Istio's <c>HTTPMatchRequest</c> list.</summary>
    private List<HttpRouteMatch> Matches(MappingNode route, string routePath)
    {
        var result = new List<HttpRouteMatch>();
        var list = r.List(route, "match", routePath);
        for (var m = 0; m < (list?.Items.Count ?? 0); m++)
        {
            var path = DocumentReader.Item(routePath + ".match", m);
            if (r.AsMap(list!.Items[m], path) is not { } item)
            {
                continue;
            }

            r.CheckFields(
                item,
                path,
                ["name", "uri", "scheme", "method", "authority", "headers", "queryParams", "withoutHeaders", "ignoreUriCase", "port"],
                ["sourceLabels", "gateways", "sourceNamespace", "statPrefix"],
                strict: true);
            var errors = r.ErrorCount;
            var match = new HttpRouteMatch
            {
                Name = r.String(item, "name", path),
                Uri = Match(item, "uri", path),
                Scheme = Match(item, "scheme", path),
                Method = Match(item, "method", path),
                Authority = Match(item, "authority", path),
                IgnoreUriCase = r.Bool(item, "ignoreUriCase", path) ?? false,
                Port = r.Int(item, "port", path, min: 1, max: 65535),
                Headers = MatchMap(item, "headers", path, allowPrefix: true),
                QueryParams = MatchMap(item, "queryParams", path, allowPrefix: false),
                WithoutHeaders = MatchMap(item, "withoutHeaders", path, allowPrefix: true),
            };
            if (r.ErrorCount == errors)
            {
                result.Add(match);
            }
        }

        return result;
    }

    private System.Collections.Immutable.ImmutableArray<KeyValuePair<string, StringMatch>> MatchMap(MappingNode parent, string key, string path, bool allowPrefix)
    {
        if (r.Map(parent, key, path) is not { } map)
        {
            return [];
        }

        var result = new List<KeyValuePair<string, StringMatch>>();
        foreach (var (name, _) in map.Entries)
        {
            if (Match(map, name.Value, DocumentReader.Child(path, key), allowPrefix) is { } match)
            {
                result.Add(new(name.Value, match));
            }
        }

        return [.. result];
    }

    /// <summary>An Istio <c>StringMatch</c>: one of exact, prefix or regex; <c>{}</c> matches any present value.</summary>
    private StringMatch? Match(MappingNode parent, string key, string path, bool allowPrefix = true)
    {
        var fieldPath = key.Contains('.', StringComparison.Ordinal) || key.Contains('-', StringComparison.Ordinal) ? $"{path}['{key}']" : DocumentReader.Child(path, key);
        if (r.Field(parent, key, path, required: false) is not { } node)
        {
            return null;
        }

        if (node is ScalarNode { IsNull: true })
        {
            return StringMatch.Present;
        }

        if (r.AsMap(node, fieldPath) is not { } map)
        {
            return null;
        }

        string[] kinds = allowPrefix ? ["exact", "prefix", "regex"] : ["exact", "regex"];
        r.CheckFields(map, fieldPath, kinds, allowPrefix ? null : ["prefix"], strict: true);
        var given = kinds.Where(k => map[k] is not null).ToList();
        if (given.Count == 0)
        {
            return map.Entries.Count == 0 ? StringMatch.Present : null;
        }

        if (given.Count > 1)
        {
            r.Error(DiagnosticCodes.InvalidValue, map, fieldPath, $"only one of {string.Join(", ", given)} may be set");
            return null;
        }

        var kind = given[0];
        if (r.String(map, kind, fieldPath) is not { } value)
        {
            return null;
        }

        if (kind == "regex" && ++_regexes > r.Limits.MaxRegexesPerFile)
        {
            r.Error(DiagnosticCodes.Limit, map["regex"] ?? map, DocumentReader.Child(fieldPath, "regex"), $"more than {r.Limits.MaxRegexesPerFile} regexes in the file (MeshConfigurationLimits.MaxRegexesPerFile)");
            return null;
        }

        return Core(map, fieldPath, () => kind switch
        {
            "exact" => StringMatch.Exact(value),
            "prefix" => StringMatch.Prefix(value),
            _ => StringMatch.Regex(value),
        });
    }

    /// <summary>Istio's <c>HTTPRetry</c>. Without retryOn, Istio's default applies: connect failures (and the gRPC conditions, which HTTP/1 never sees).</summary>
    private RouteRetryPolicy? Retries(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["attempts", "perTryTimeout", "retryOn"], ["retryRemoteLocalities", "backoff"], strict: true);
        var errors = r.ErrorCount;
        var attempts = r.Int(node, "attempts", path, required: true, min: 0, max: RouteRetryPolicy.MaxAttempts);
        var perTry = Duration(node, "perTryTimeout", path);
        var on = RetryOn.None;
        var codes = new List<int>();
        if (r.Field(node, "retryOn", path, required: false) is { } onNode && r.AsString(onNode, path + ".retryOn") is { } text)
        {
            var ignored = new List<string>();
            if (MeshEnums.ParseRetryOn(text, out on, codes, ignored) is { } unknown)
            {
                r.Error(DiagnosticCodes.UnknownEnum, onNode, path + ".retryOn", MeshEnums.UnknownRetryOn(unknown));
            }

            foreach (var condition in ignored)
            {
                r.Warning(DiagnosticCodes.UnsupportedField, onNode, path + ".retryOn", $"'{condition}' is not supported by DynamicSubset.Routing; ignored");
            }
        }
        else
        {
            on = RetryOn.ConnectFailure;
        }

        return attempts is null || r.ErrorCount > errors ? null : Core(node, path, () => new RouteRetryPolicy(attempts.Value, on, perTry, codes));
    }

    private List<HeaderMapping> Mappings(MappingNode route, string routePath)
    {
        var result = new List<HeaderMapping>();
        var path = routePath + ".headerToDynamicSubsetKey";
        var list = r.List(route, "headerToDynamicSubsetKey", routePath);
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var j = 0; j < (list?.Items.Count ?? 0); j++)
        {
            var itemPath = DocumentReader.Item(path, j);
            if (r.AsMap(list!.Items[j], itemPath) is not { } item)
            {
                continue;
            }

            r.CheckFields(item, itemPath, ["header", "key", "defaultValue"], strict: true);
            var header = r.String(item, "header", itemPath, required: true);
            var key = r.String(item, "key", itemPath, required: true);
            var defaultValue = r.String(item, "defaultValue", itemPath);
            if (header is null || key is null)
            {
                continue;
            }

            if (byKey.TryGetValue(key, out var first))
            {
                r.Error(DiagnosticCodes.InvalidValue, item["key"]!, itemPath + ".key", $"key '{key}' is already mapped by {DocumentReader.Item(path, first)}");
                continue;
            }

            byKey[key] = j;
            if (Core(item, itemPath, () => new HeaderMapping(header, key, defaultValue)) is { } mapping)
            {
                result.Add(mapping);
            }
        }

        if (result.Count > RoutingPolicy.MaxHeaderMappings)
        {
            r.Error(DiagnosticCodes.InvalidValue, list!, path, $"has {result.Count} entries; at most {RoutingPolicy.MaxHeaderMappings} are supported");
        }

        return result;
    }

    private List<Destination> Destinations(MappingNode route, string routePath, MeshDocument info)
    {
        var result = new List<Destination>();
        var list = r.List(route, "route", routePath);
        for (var k = 0; k < (list?.Items.Count ?? 0); k++)
        {
            var itemPath = DocumentReader.Item(routePath + ".route", k);
            if (r.AsMap(list!.Items[k], itemPath) is not { } item)
            {
                continue;
            }

            r.CheckFields(item, itemPath, ["destination", "weight"], ["headers"]);
            var weight = r.Long(item, "weight", itemPath, min: 0, max: uint.MaxValue);
            if (r.Map(item, "destination", itemPath, required: true) is not { } destination)
            {
                continue;
            }

            var destinationPath = itemPath + ".destination";
            r.CheckFields(destination, destinationPath, ["host", "port", "subset"], strict: true);
            var host = r.String(destination, "host", destinationPath, required: true);
            var subset = r.String(destination, "subset", destinationPath);
            int? port = null;
            if (r.Map(destination, "port", destinationPath) is { } portNode)
            {
                r.CheckFields(portNode, destinationPath + ".port", ["number"]);
                port = r.Int(portNode, "number", destinationPath + ".port", required: true, min: 1, max: 65535);
            }

            if (host is not null)
            {
                result.Add(new Destination(HostNames.ToFqdn(host, info.Namespace), subset, port, weight ?? 0, destination["host"]!, destinationPath + ".host") { SubsetNode = destination["subset"] });
            }
        }

        if (result.Count > 1 && result.Sum(static d => d.Weight) == 0 && list is not null)
        {
            r.Error(DiagnosticCodes.InvalidValue, list, routePath + ".route", $"{result.Count} destinations and no weight: give each destination a weight (Istio: they are relative)");
        }

        return result;
    }

    private ServiceDoc Service(MappingNode doc, MeshDocument info)
    {
        var ports = new List<ServicePort>();
        var spec = r.Map(doc, "spec", "", required: true);
        if (spec is null)
        {
            return new(info, null, ports, doc);
        }

        var selector = r.StringMap(spec, "selector", "spec");
        var list = r.List(spec, "ports", "spec");
        for (var i = 0; i < (list?.Items.Count ?? 0); i++)
        {
            var path = DocumentReader.Item("spec.ports", i);
            if (r.AsMap(list!.Items[i], path) is not { } item)
            {
                continue;
            }

            var port = r.Int(item, "port", path, required: true, min: 1, max: 65535);
            var name = r.String(item, "name", path);
            int? targetNumber = null;
            string? targetName = null;
            if (r.Field(item, "targetPort", path, required: false) is ScalarNode target)
            {
                if (target.Quoted || !int.TryParse(target.Value, out _))
                {
                    targetName = target.Value;
                }
                else
                {
                    targetNumber = r.AsInt(target, path + ".targetPort", 1, 65535);
                }
            }
            else if (item["targetPort"] is { } wrong and not ScalarNode)
            {
                r.AsString(wrong, path + ".targetPort");
            }

            if (port is not null)
            {
                ports.Add(new ServicePort(port.Value, name, targetNumber, targetName, item));
            }
        }

        return new(info, selector, ports, doc);
    }

    private PodDoc? Pod(MappingNode doc, MeshDocument info, MappingNode? metadata)
    {
        var labels = (metadata is null ? null : r.StringMap(metadata, "labels", "metadata")) ?? [];
        var ips = new List<string>();
        var ready = false;
        if (r.Map(doc, "status", "") is { } status)
        {
            if (r.String(status, "podIP", "status") is { Length: > 0 } ip)
            {
                ips.Add(ip);
            }

            var podIps = r.List(status, "podIPs", "status");
            for (var i = 0; i < (podIps?.Items.Count ?? 0); i++)
            {
                if (r.AsMap(podIps!.Items[i], DocumentReader.Item("status.podIPs", i)) is { } entry &&
                    r.String(entry, "ip", DocumentReader.Item("status.podIPs", i)) is { Length: > 0 } extra &&
                    !ips.Contains(extra))
                {
                    ips.Add(extra);
                }
            }

            var conditions = r.List(status, "conditions", "status");
            for (var i = 0; i < (conditions?.Items.Count ?? 0); i++)
            {
                var path = DocumentReader.Item("status.conditions", i);
                if (r.AsMap(conditions!.Items[i], path) is { } condition && r.String(condition, "type", path) == "Ready")
                {
                    ready = r.String(condition, "status", path) == "True";
                }
            }
        }

        var containerPorts = new List<(string?, int)>();
        if (r.Map(doc, "spec", "") is { } spec && r.List(spec, "containers", "spec") is { } containers)
        {
            for (var c = 0; c < containers.Items.Count; c++)
            {
                var path = DocumentReader.Item("spec.containers", c);
                if (r.AsMap(containers.Items[c], path) is not { } container || r.List(container, "ports", path) is not { } ports)
                {
                    continue;
                }

                for (var p = 0; p < ports.Items.Count; p++)
                {
                    var portPath = DocumentReader.Item(path + ".ports", p);
                    if (r.AsMap(ports.Items[p], portPath) is { } port && r.Int(port, "containerPort", portPath, required: true, 1, 65535) is { } number)
                    {
                        containerPorts.Add((r.String(port, "name", portPath), number));
                    }
                }
            }
        }

        if (ips.Count == 0)
        {
            r.Info(DiagnosticCodes.PodWithoutIp, doc, "status.podIP", $"pod '{info.Name}' has no IP yet; skipped");
            return null;
        }

        // Only the position is kept: a pod's whole tree would stay in memory as long as the pod (a cluster holds thousands).
        return new PodDoc(info, labels, ips, ready, containerPorts, new ScalarNode(doc.Position, "", quoted: false));
    }

    private ServiceEntryDoc? ServiceEntry(MappingNode doc, MeshDocument info)
    {
        if (r.Map(doc, "spec", "", required: true) is not { } spec)
        {
            return null;
        }

        r.CheckFields(spec, "spec", ["hosts", "ports", "resolution", "endpoints", "workloadSelector", "location", "addresses"], ["exportTo", "subjectAltNames"]);
        var hosts = r.StringList(spec, "hosts", "spec", required: true)?.Select(h => HostNames.ToFqdn(h.Value, info.Namespace)).ToList() ?? [];
        var resolution = r.String(spec, "resolution", "spec") ?? "NONE";
        var ports = new List<ServiceEntryPort>();
        var portList = r.List(spec, "ports", "spec");
        for (var i = 0; i < (portList?.Items.Count ?? 0); i++)
        {
            var path = DocumentReader.Item("spec.ports", i);
            if (r.AsMap(portList!.Items[i], path) is { } port && r.Int(port, "number", path, required: true, 1, 65535) is { } number)
            {
                ports.Add(new ServiceEntryPort(number, r.String(port, "name", path), r.Int(port, "targetPort", path, min: 1, max: 65535)));
            }
        }

        var endpoints = new List<WorkloadDoc>();
        var endpointList = r.List(spec, "endpoints", "spec");
        for (var i = 0; i < (endpointList?.Items.Count ?? 0); i++)
        {
            var path = DocumentReader.Item("spec.endpoints", i);
            if (r.AsMap(endpointList!.Items[i], path) is { } item && Workload(item, path, info, requireAddress: true) is { } workload)
            {
                endpoints.Add(workload);
            }
        }

        Dictionary<string, string>? workloadSelector = null;
        if (r.Map(spec, "workloadSelector", "spec") is { } selectorNode)
        {
            workloadSelector = r.StringMap(selectorNode, "labels", "spec.workloadSelector") ?? [];
        }

        if (resolution != "STATIC" && (endpoints.Count > 0 || workloadSelector is not null))
        {
            r.Warning(DiagnosticCodes.UnsupportedField, spec["resolution"] ?? spec, "spec.resolution",
                $"resolution {resolution} is not supported by DynamicSubset.Routing (only STATIC); this entry's endpoints are ignored");
            endpoints.Clear();
            workloadSelector = null;
        }

        return new ServiceEntryDoc(info, hosts, ports, endpoints, workloadSelector, doc);
    }

    private WorkloadDoc? Workload(MappingNode node, string path, MeshDocument info, bool requireAddress)
    {
        r.CheckFields(node, path, ["address", "labels", "ports", "weight"], ["network", "locality", "serviceAccount"]);
        var address = r.String(node, "address", path, requireAddress);
        var labels = r.StringMap(node, "labels", path) ?? [];
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        if (r.Map(node, "ports", path) is { } portMap)
        {
            foreach (var (name, value) in portMap.Entries)
            {
                if (r.AsInt(value, $"{path}.ports['{name.Value}']", 1, 65535) is { } number)
                {
                    ports[name.Value] = number;
                }
            }
        }

        var weight = r.Long(node, "weight", path, min: 0, max: Endpoint.MaxWeight) ?? 0;
        if (address is null)
        {
            return null;
        }

        // Istio's weight is a uint32 where 0 means "not set", which is 1.
        var workload = new WorkloadDoc(info, address, labels, ports, weight == 0 ? 1 : weight, node, path);
        return Core(node, path, () => Endpoint.Create(address, 1, labels, weight: workload.Weight)) is null ? null : workload;
    }

    /// <summary>Runs a core constructor and turns its validation error into a positioned diagnostic.</summary>
    private T? Core<T>(MappingNode node, string path, Func<T> create)
        where T : class
    {
        try
        {
            return create();
        }
        catch (RoutingValidationException e)
        {
            var at = Locate(node, e.FieldPath) ?? node;
            r.Error(DiagnosticCodes.InvalidValue, at, $"{path}.{e.FieldPath}", e.Reason);
            return null;
        }
    }

    /// <summary>Finds the node a core field path such as <c>keys[1]</c> or <c>fallbackKeysSubset</c> names.</summary>
    private static YamlNode? Locate(MappingNode node, string fieldPath)
    {
        YamlNode? current = node;
        foreach (var part in fieldPath.Split('.'))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? part : part[..bracket];
            current = (current as MappingNode)?[name];
            if (bracket < 0)
            {
                continue;
            }

            var index = part[(bracket + 1)..^1];
            if (current is SequenceNode list && int.TryParse(index, out var i) && i < list.Items.Count)
            {
                current = list.Items[i];
            }
            else if (current is MappingNode map && index.Length >= 2 && index[0] == '\'')
            {
                // A map entry, written ['key'] by the core: point at the key itself.
                current = map.Entries.FirstOrDefault(e => e.Key.Value == index[1..^1]).Key ?? current;
            }
        }

        return current;
    }
}
