using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Reads a VirtualService: its http routes, matches, retries, headerToDynamicSubsetKey and destinations.</summary>
internal sealed partial class DocumentParser
{
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
        // No hosts: a delegate, whose routes another VirtualService's route takes in (the compiler warns when none does).
        hosts.AddRange(r.StringList(spec, "hosts", "spec")?.Select(h => HostNames.ToFqdn(h.Value, info.Namespace)) ?? []);
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
                ["name", "headerToDynamicSubsetKey", "route", "match", "retries", "timeout",
                 "fault", "mirror", "mirrorPercentage", "mirrorPercent", "mirrors", "rewrite", "redirect", "corsPolicy", "headers", "directResponse", "delegate"]);
            var name = r.String(route, "name", routePath);
            var matches = Matches(route, routePath);
            var destinations = Destinations(route, routePath, info);
            var retries = r.Map(route, "retries", routePath) is { } retryNode ? Retries(retryNode, routePath + ".retries") : null;
            var timeout = Duration(route, "timeout", routePath, allowZero: true) is { } t ? (t == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : t) : (TimeSpan?)null;
            if (destinations.Count == 0 && route["route"] is not SequenceNode { Items.Count: > 0 } && route["redirect"] is null && route["directResponse"] is null && route["delegate"] is null)
            {
                r.Error(DiagnosticCodes.MissingField, (YamlNode?)route["route"] ?? route, routePath + ".route", "required field is missing: a route needs at least one destination");
            }

            var actions = Actions(route, routePath, matches, info);
            (string Name, string Namespace)? delegated = null;
            if (r.Map(route, "delegate", routePath) is { } delegateNode)
            {
                r.CheckFields(delegateNode, routePath + ".delegate", ["name", "namespace"], strict: true);
                if (r.String(delegateNode, "name", routePath + ".delegate", required: true) is { } delegateName)
                {
                    delegated = (delegateName, r.String(delegateNode, "namespace", routePath + ".delegate") ?? info.Namespace);
                }

                if (route["route"] is not null || actions.AnswersItself)
                {
                    r.Error(DiagnosticCodes.InvalidValue, delegateNode, routePath + ".delegate", "a route with a delegate takes no route, redirect or directResponse of its own");
                }
            }

            routes.Add(new HttpRouteDoc(i, name, Mappings(route, routePath), route["headerToDynamicSubsetKey"], matches, destinations, retries, timeout, route, routePath)
            {
                Actions = actions,
                Delegate = delegated,
            });
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
                ["name", "uri", "scheme", "method", "authority", "headers", "queryParams", "withoutHeaders", "ignoreUriCase", "port", "sourceLabels"],
                ["gateways", "sourceNamespace", "statPrefix"],
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
                SourceLabels = [.. r.StringMap(item, "sourceLabels", path) ?? []],
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
        return r.Field(parent, key, path, required: false) is { } node ? MatchNode(node, fieldPath, allowPrefix) : null;
    }

    /// <summary>The node of an Istio <c>StringMatch</c>, wherever it stands (under a key, or as a list item).</summary>
    private StringMatch? MatchNode(YamlNode node, string fieldPath, bool allowPrefix = true)
    {
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

    /// <summary>An Istio <c>Destination</c>: host, subset, port (of a route, or of a mirror).</summary>
    private Destination? DestinationOf(MappingNode destination, string destinationPath, MeshDocument info, long weight = 0)
    {
        r.CheckFields(destination, destinationPath, ["host", "port", "subset"], strict: true);
        var host = r.String(destination, "host", destinationPath, required: true);
        var subset = r.String(destination, "subset", destinationPath);
        int? port = null;
        if (r.Map(destination, "port", destinationPath) is { } portNode)
        {
            r.CheckFields(portNode, destinationPath + ".port", ["number"]);
            port = r.Int(portNode, "number", destinationPath + ".port", required: true, min: 1, max: 65535);
        }

        return host is null ? null
            : new Destination(HostNames.ToFqdn(host, info.Namespace), subset, port, weight, destination["host"]!, destinationPath + ".host") { SubsetNode = destination["subset"] };
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

            r.CheckFields(item, itemPath, ["destination", "weight", "headers"]);
            var weight = r.Long(item, "weight", itemPath, min: 0, max: uint.MaxValue);
            var headers = r.Map(item, "headers", itemPath) is { } headerNode ? HeaderRules(headerNode, itemPath + ".headers") : null;
            if (r.Map(item, "destination", itemPath, required: true) is { } destination &&
                DestinationOf(destination, itemPath + ".destination", info, weight ?? 0) is { } parsed)
            {
                result.Add(parsed with { Headers = headers });
            }
        }

        if (result.Count > 1 && result.Sum(static d => d.Weight) == 0 && list is not null)
        {
            r.Error(DiagnosticCodes.InvalidValue, list, routePath + ".route", $"{result.Count} destinations and no weight: give each destination a weight (Istio: they are relative)");
        }

        return result;
    }
}
