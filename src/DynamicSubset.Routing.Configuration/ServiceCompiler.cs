using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Turns accepted documents into services: policy, header mappings, endpoints; and the lint warnings.</summary>
internal sealed partial class ServiceCompiler(DocumentSet docs, List<ConfigurationDiagnostic> diagnostics, MeshConfigurationLimits limits, EndpointMemo? memo = null)
{
    // Endpoints per (host, port), computed once: every pool of a host filters the same list; and where its pods come from.
    private readonly Dictionary<(string Host, int? Port), List<Endpoint>> _endpoints = [];
    private readonly Dictionary<(string Host, int? Port), List<PodSource>> _podSources = [];
    private readonly HashSet<(string Host, int? Port)> _otherEndpoints = [];

    // The VirtualServices that name hosts, with each delegating route replaced by its delegate's routes.
    private List<VirtualServiceDoc> _virtualServices = [];

    public List<MeshService> Compile()
    {
        var rules = new Dictionary<string, DestinationRuleDoc>(StringComparer.Ordinal);
        foreach (var rule in docs.DestinationRules)
        {
            if (!rules.TryAdd(rule.Fqdn, rule))
            {
                Reader(rule.Info).Error(DiagnosticCodes.Duplicate, rule.HostNode, "spec.host", $"another DestinationRule already has host {rule.Fqdn}; only the first is used");
            }
        }

        foreach (var service in docs.Services.Where(s => Selected(s).Count == 0))
        {
            // Without any Pod document the endpoints must come from elsewhere, so that is only a note.
            var pods = docs.Pods.Count > 0;
            Reader(service.Info).Report(pods ? DiagnosticSeverity.Warning : DiagnosticSeverity.Info, DiagnosticCodes.ServiceSelectsNoPod, new(service.Info.Line, 1), "spec.selector",
                pods ? $"Service '{service.Info.Name}' selects no pod" : $"Service '{service.Info.Name}' selects no pod: no Pod documents were given");
        }

        _virtualServices = ExpandDelegates();
        var routes = _virtualServices.SelectMany(vs => vs.Http.Select(route => (vs, route))).ToList();
        var pools = new List<Pool>();
        var byKey = new Dictionary<string, Pool>(StringComparer.Ordinal);

        // Every DestinationRule host is a pool, routed by its rule whether or not it has dynamicSubset. Its header
        // mappings are those of the first route to it that has some, as they were before routes were compiled.
        foreach (var rule in rules.Values)
        {
            var first = routes.FirstOrDefault(x => x.route.Destinations.Exists(d => d.Host == rule.Fqdn && d.Subset is null) && x.route.Mappings.Count > 0);
            first = first.route is null ? routes.FirstOrDefault(x => x.route.Destinations.Exists(d => d.Host == rule.Fqdn) && x.route.Mappings.Count > 0) : first;
            if (rule.Policy is not null && first.route is null)
            {
                Reader(rule.Info).Warning(DiagnosticCodes.NoVirtualService, rule.HostNode, "spec.host",
                    $"no VirtualService route to {rule.Fqdn} has headerToDynamicSubsetKey; every request gets the global fallback policy");
            }

            if (FindOrAddPool(rule.Fqdn, null, first.route?.Mappings ?? [], first.vs, first.route, pools, byKey, rules) is { } pool && rule.Policy is not null)
            {
                Lint(rule, Reader(rule.Info), "spec.trafficPolicy.loadBalancer.dynamicSubset", first.vs, first.route, pool.Endpoints);
            }
        }

        // Each route's destinations: a pool per (host, subset, header mappings), made on first use.
        var bound = new Dictionary<HttpRouteDoc, List<(string Pool, Destination Destination)>>();
        var mirrored = new Dictionary<HttpRouteDoc, List<(string Pool, Destination Destination, double Percentage)>>();
        foreach (var (vs, route) in routes)
        {
            var list = new List<(string, Destination)>();
            foreach (var destination in route.Destinations)
            {
                if (!rules.ContainsKey(destination.Host) && !byKey.ContainsKey(destination.Host))
                {
                    Reader(vs.Info).Info(DiagnosticCodes.DestinationWithoutRule, destination.Node, destination.Path,
                        $"no DestinationRule has host {destination.Host}; routed to every endpoint of it, as plain Istio does");
                }

                if (FindOrAddPool(destination.Host, destination.Subset, route.Mappings, vs, route, pools, byKey, rules, destination) is { } pool)
                {
                    list.Add((pool.Name, destination));
                }
            }

            bound[route] = list;

            // A mirror's copies resolve in the mirror host's own pool (its header mappings, its dynamic subsets).
            var mirrors = new List<(string, Destination, double)>();
            foreach (var (mirror, share) in route.Actions.Mirrors)
            {
                var baseName = mirror.Subset is null ? mirror.Host : $"{mirror.Host}/{mirror.Subset}";
                if ((byKey.GetValueOrDefault(baseName) ?? FindOrAddPool(mirror.Host, mirror.Subset, [], vs, route, pools, byKey, rules, mirror)) is { } pool)
                {
                    mirrors.Add((pool.Name, mirror, share));
                }
            }

            mirrored[route] = mirrors;
        }

        // Each VirtualService's routes go on the entry its first unclaimed host names: that host's own pool if it has
        // one, else a pool of its own with no endpoints (a gateway host). Its other hosts name the same entry.
        var claimed = new Dictionary<string, VirtualServiceDoc>(StringComparer.Ordinal);
        foreach (var vs in _virtualServices)
        {
            var r = Reader(vs.Info);
            var hosts = new List<string>();
            foreach (var host in vs.Hosts)
            {
                if (claimed.TryGetValue(host, out var other))
                {
                    r.Warning(DiagnosticCodes.HostClaimed, vs.HostsNode ?? new ScalarNode(new(vs.Info.Line, 1), "", quoted: false), "spec.hosts",
                        $"host {host} is already routed by VirtualService {other.Info.Namespace}/{other.Info.Name}; this one is not used for it");
                    continue;
                }

                claimed[host] = vs;
                hosts.Add(host);
            }

            var http = vs.Http.Where(route => route.Actions.AnswersItself || (bound.TryGetValue(route, out var d) && d.Count > 0)).ToList();
            if (hosts.Count == 0 || http.Count == 0)
            {
                continue;
            }

            LintRoutes(vs, http);
            var entryName = hosts.FirstOrDefault(h => byKey.ContainsKey(h)) ?? hosts[0];
            if (!byKey.TryGetValue(entryName, out var entry))
            {
                entry = new Pool(entryName, entryName, null, null, new RoutingPolicy(DynamicSubsetPolicy.None, []), [], [], null, vs.Info);
                pools.Add(entry);
                byKey[entryName] = entry;
            }

            if (entry.Routes is not null)
            {
                continue; // another VirtualService's host already made this pool its entry
            }

            entry.Aliases.AddRange(hosts.Where(h => h != entryName));
            entry.Routes = [.. http.Select(route => new MeshRoute(route, bound.GetValueOrDefault(route) ?? [], mirrored.GetValueOrDefault(route) ?? []))];
        }

        var services = new List<MeshService>(pools.Count);
        foreach (var pool in pools)
        {
            if (pool.Endpoints.Count > limits.MaxEndpointsPerService)
            {
                var at = pool.Rule;
                Reader(at?.Info ?? pool.Origin).Error(DiagnosticCodes.Limit, (YamlNode?)at?.HostNode ?? new ScalarNode(new(pool.Origin.Line, 1), "", quoted: false), "spec.host",
                    $"{pool.Name} has {pool.Endpoints.Count} endpoints, more than {limits.MaxEndpointsPerService} (MeshConfigurationLimits.MaxEndpointsPerService)");
                continue;
            }

            services.Add(pool.ToService());
        }

        return services;
    }

    /// <summary>The pool of (host, subset, mappings): found, or made with the rule's policy merged with the subset's.</summary>
    private Pool? FindOrAddPool(
        string host, string? subset, List<HeaderMapping> mappings, VirtualServiceDoc? vs, HttpRouteDoc? route, List<Pool> pools, Dictionary<string, Pool> byKey,
        Dictionary<string, DestinationRuleDoc> rules, Destination? destination = null)
    {
        var baseName = subset is null ? host : $"{host}/{subset}";
        var rule = rules.GetValueOrDefault(host);
        var subsetDoc = subset is null ? null : rule?.Subsets.Find(s => s.Name == subset);
        // The port the pool serves: the route's, else the one a VirtualService names, else the Service's only port. The
        // rule's settings for that port, then the subset's, then the subset's own for that port (Istio's order).
        var port = destination?.Port ?? _virtualServices.SelectMany(v => v.Http).SelectMany(h => h.Destinations).FirstOrDefault(d => d.Host == host && d.Port is not null)?.Port;
        var servicePort = port ?? OnlyPort(host);
        var policy = (rule?.TrafficPolicy ?? TrafficPolicyDoc.Empty).ForPort(servicePort).MergedWith(subsetDoc?.Policy?.ForPort(servicePort));

        // Header mappings only matter under dynamicSubset: without it, every route to the pool shares it.
        mappings = policy.DynamicSubset is null ? [] : mappings;
        var key = PoolKey(baseName, mappings);
        if (byKey.TryGetValue(key, out var found))
        {
            return found;
        }

        if (subset is not null)
        {
            if (subsetDoc is null && vs is not null && destination is not null)
            {
                Reader(vs.Info).Warning(DiagnosticCodes.UnknownSubset, destination.SubsetNode ?? destination.Node, destination.Path.Replace(".host", ".subset", StringComparison.Ordinal),
                    rule is null
                        ? $"subset '{subset}' is not defined: no DestinationRule has host {host}; requests routed here get no healthy upstream"
                        : $"DestinationRule {rule.Info.Namespace}/{rule.Info.Name} has no subset '{subset}'; requests routed here get no healthy upstream");
            }
        }

        var all = EndpointsOf(host, port);
        var endpoints = subset is null ? all
            : subsetDoc is null ? []
            : all.Where(e => subsetDoc.Labels.All(l => e.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();

        // The plain name goes to the first pool of a (host, subset); a route whose header mappings differ gets its own.
        var name = byKey.ContainsKey(baseName) ? $"{baseName} via {vs?.Info.Name}.http[{route?.Label}]" : baseName;
        RoutingPolicy routingPolicy;
        try
        {
            routingPolicy = new RoutingPolicy(policy.DynamicSubset ?? DynamicSubsetPolicy.None, mappings, policy.Simple ?? LoadBalancingPolicy.LeastRequest)
            {
                OutlierDetection = policy.OutlierDetection,
                ConsistentHash = policy.ConsistentHash,
                Locality = policy.Locality ?? LocalityLoadBalancing.Default,
            };
        }
        catch (RoutingValidationException e)
        {
            if (vs is not null && route is not null)
            {
                Reader(vs.Info).Error(DiagnosticCodes.InvalidValue, route.Node, route.Path, e.Message);
            }

            return null;
        }

        var pool = new Pool(name, host, subset, rule, routingPolicy, endpoints, [], port, rule?.Info ?? vs!.Info)
        {
            Protocol = policy.Protocol(PortProtocol(host, port)),
            Limits = policy.Limits,
            PodSources = subset is not null && subsetDoc is null ? [] : _podSources.GetValueOrDefault((host, port)) ?? [], // an unknown subset has no endpoints
            SubsetLabels = subsetDoc?.Labels,
            HasOtherEndpoints = _otherEndpoints.Contains((host, port)),
        };
        pools.Add(pool);
        byKey[key] = pool;
        byKey.TryAdd(baseName, pool);
        return pool;
    }

    /// <summary>
    /// What makes two routes' destinations one pool: the same host or subset and the same header mappings, in order.
    /// Shared with the options reader, so both split pools alike.
    /// </summary>
    internal static string PoolKey(string? pool, IEnumerable<HeaderMapping> mappings) =>
        $"{pool}\n{string.Join("\n", mappings.Select(static m => $"{m.Header}\t{m.Key}\t{m.DefaultValue}"))}";

    /// <summary>A route after one with no match conditions is never reached.</summary>
    private void LintRoutes(VirtualServiceDoc vs, List<HttpRouteDoc> http)
    {
        var catchAll = http.FindIndex(static route => route.Matches.Count == 0);
        for (var i = catchAll + 1; catchAll >= 0 && i < http.Count; i++)
        {
            Reader(vs.Info).Warning(DiagnosticCodes.UnreachableRoute, http[i].Node, http[i].Path,
                $"never reached: http[{http[catchAll].Index}] before it has no match conditions and takes every request");
        }
    }

    private List<Endpoint> EndpointsOf(string host, int? port)
    {
        if (!_endpoints.TryGetValue((host, port), out var endpoints))
        {
            _endpoints[(host, port)] = endpoints = Endpoints(host, port);
        }

        return endpoints;
    }

    private void Lint(DestinationRuleDoc rule, DocumentReader r, string dsPath, VirtualServiceDoc? vs, HttpRouteDoc? route, List<Endpoint> endpoints)
    {
        var policy = rule.Policy!;
        var node = rule.DynamicSubsetNode!;
        var selectors = policy.SubsetSelectors;
        var selectorsNode = node["subsetSelectors"] as SequenceNode;

        // The first selector of each key set, hashed: a scan of the earlier ones made a large rule quadratic.
        var firstWithKeys = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < selectors.Length; i++)
        {
            var at = selectorsNode?.Items.ElementAtOrDefault(i) ?? node;
            var path = DocumentReader.Item(dsPath + ".subsetSelectors", i);
            var keySet = string.Concat(selectors[i].Keys.Select(static k => $"{k.Length}:{k}")); // length-prefixed: unique per set
            if (!firstWithKeys.TryAdd(keySet, i))
            {
                var first = firstWithKeys[keySet];
                r.Warning(DiagnosticCodes.SameKeySet, at, path,
                    $"has the same keys as subsetSelectors[{first}] {selectors[i]}; only the first one counts");
            }

            if (route is not null)
            {
                var unmapped = selectors[i].Keys.Where(k => !route.Mappings.Exists(m => m.Key == k)).ToList();
                if (unmapped.Count > 0)
                {
                    r.Warning(DiagnosticCodes.UnmappedSelectorKey, at, path + ".keys",
                        $"no headerToDynamicSubsetKey maps {string.Join(", ", unmapped)}; no request can match this selector");
                }
            }
        }

        if (vs is not null && route is not null && route.MappingsNode is SequenceNode mappingNodes)
        {
            var vsReader = Reader(vs.Info);
            for (var j = 0; j < route.Mappings.Count; j++)
            {
                var mapping = route.Mappings[j];
                if (!selectors.Any(s => s.Keys.Contains(mapping.Key)))
                {
                    var at = (mappingNodes.Items.ElementAtOrDefault(j) as MappingNode)?["key"] ?? mappingNodes;
                    vsReader.Warning(DiagnosticCodes.UnusedMappingKey, at, $"spec.http[{route.Index}].headerToDynamicSubsetKey[{j}].key",
                        $"no subset selector of {rule.Fqdn} uses key '{mapping.Key}'; a request that sets it matches no subset");
                }
            }
        }

        var usesDefault = policy.FallbackPolicy == FallbackPolicy.DefaultSubset || selectors.Any(s => s.FallbackPolicy == FallbackPolicy.DefaultSubset);
        var defaultNode = node.KeyOf("defaultSubset");
        if (usesDefault && policy.DefaultSubset.Count == 0)
        {
            r.Warning(DiagnosticCodes.EmptyDefaultSubset, (YamlNode?)defaultNode ?? node, dsPath + ".defaultSubset",
                "DEFAULT_SUBSET is used but defaultSubset is empty, so it acts as ANY_ENDPOINT");
        }
        else if (!usesDefault && policy.DefaultSubset.Count > 0)
        {
            r.Warning(DiagnosticCodes.UnusedDefaultSubset, defaultNode!, dsPath + ".defaultSubset",
                "no fallbackPolicy is DEFAULT_SUBSET, so defaultSubset is never used");
        }

        if (policy.DefaultSubset.Count > 0 && endpoints.Count > 0 &&
            !endpoints.Exists(e => policy.DefaultSubset.All(p => e.TryGetValue(p.Key, out var v) && v == p.Value)))
        {
            r.Warning(DiagnosticCodes.DefaultSubsetMatchesNothing, defaultNode!, dsPath + ".defaultSubset",
                $"no endpoint of {rule.Fqdn} has {string.Join(", ", policy.DefaultSubset.Select(p => $"{p.Key}={p.Value}"))}");
        }
    }

    private List<Endpoint> Endpoints(string fqdn, int? port)
    {
        // A host whose endpoints come from ServiceEntries' own lists alone takes what the last compile made from the
        // same documents (a reload of other files); anything else is made again.
        var entries = docs.ServiceEntries.FindAll(e => e.Hosts.Contains(fqdn));
        var memoized = memo is not null && !docs.Services.Exists(s => s.Fqdn == fqdn) && !entries.Exists(static e => e.WorkloadSelector is not null);
        if (memoized && memo!.TryGet((fqdn, port), entries, out var kept))
        {
            _podSources[(fqdn, port)] = [];
            if (kept.HasOtherEndpoints)
            {
                _otherEndpoints.Add((fqdn, port));
            }

            return [.. kept.Endpoints];
        }

        var diagnosticsBefore = diagnostics.Count;
        var made = MakeEndpoints(fqdn, port, entries);
        if (memoized && diagnostics.Count == diagnosticsBefore)
        {
            memo!.Set((fqdn, port), new EndpointMemo.Entry([.. entries], [.. made], _otherEndpoints.Contains((fqdn, port))));
        }

        return made;
    }

    /// <summary>The endpoints of a host's port: its Services' pods, then its ServiceEntries' (<paramref name="entries"/>) endpoints and workloads.</summary>
    private List<Endpoint> MakeEndpoints(string fqdn, int? port, List<ServiceEntryDoc> entries)
    {
        var result = new List<Endpoint>();
        var sources = _podSources[(fqdn, port)] = [];
        var seen = new Dictionary<EndpointAddress, Endpoint>(); // the endpoint kept at each address; named only in a warning

        void Add(Endpoint endpoint, DocumentReader r, YamlNode at, string path)
        {
            if (!seen.TryAdd(endpoint.AddressKey, endpoint))
            {
                var other = seen[endpoint.AddressKey];
                r.Warning(DiagnosticCodes.Duplicate, at, path, $"{endpoint} is already an endpoint of {fqdn} ({other.Name ?? other.ToString()}); skipped");
                return;
            }

            result.Add(endpoint);
        }

        foreach (var service in docs.Services.Where(s => s.Fqdn == fqdn))
        {
            var r = Reader(service.Info);
            var servicePort = PickPort(service.Ports, port, p => p.Port);
            if (servicePort is null)
            {
                if (service.Ports.Count > 0)
                {
                    r.Warning(DiagnosticCodes.PortNotFound, service.Node, "spec.ports", port is null
                        ? "the Service has several ports and no VirtualService names one; set destination.port.number"
                        : $"the Service has no port {port}");
                }

                continue;
            }

            var source = service.Selector is { Count: > 0 } selector
                ? new PodSource(service.Info.Namespace, selector, servicePort.Port, servicePort.TargetPort, servicePort.TargetPortName)
                : null;
            if (source is not null)
            {
                sources.Add(source);
            }

            var selected = Selected(service);
            foreach (var pod in selected)
            {
                var target = source!.TargetFor(pod);
                var podReader = Reader(pod.Info);
                if (target is null)
                {
                    podReader.Warning(DiagnosticCodes.PortNotFound, pod.Node, "spec.containers",
                        $"pod '{pod.Info.Name}' has no container port named '{servicePort.TargetPortName}' (Service '{service.Info.Name}' targetPort); skipped");
                    continue;
                }

                foreach (var ip in pod.Ips)
                {
                    if (TryEndpoint(podReader, pod.Node, "status.podIP", ip, target.Value, pod.Labels, pod.Ready, 1, pod.Info.Name) is { } endpoint)
                    {
                        Add(endpoint, podReader, pod.Node, "status.podIP");
                    }
                }
            }
        }

        foreach (var entry in entries)
        {
            var r = Reader(entry.Info);
            var entryPort = PickPort(entry.Ports, port, p => p.Number);
            if (entryPort is null && (entry.Endpoints.Count > 0 || entry.WorkloadSelector is not null))
            {
                r.Warning(DiagnosticCodes.PortNotFound, entry.Node, "spec.ports", port is null ? "several ports and no VirtualService names one" : $"no port {port}");
                continue;
            }

            var workloads = entry.Endpoints.Concat(entry.WorkloadSelector is { } ws
                ? docs.WorkloadEntries.Where(w => w.Info.Namespace == entry.Info.Namespace && ws.All(l => w.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
                : []);
            var any = false;
            foreach (var workload in workloads)
            {
                any = true;
                var number = (entryPort!.Name is { } n && workload.Ports.TryGetValue(n, out var mapped) ? mapped : (int?)null) ?? entryPort.TargetPort ?? entryPort.Number;
                var name = workload.Info.Kind == "WorkloadEntry" ? workload.Info.Name : null;
                var wr = Reader(workload.Info);
                if (TryEndpoint(wr, workload.Node, workload.Path, workload.Address, number, workload.Labels, true, workload.Weight, name) is { } endpoint)
                {
                    Add(endpoint, wr, workload.Node, workload.Path);
                }
            }

            if (any)
            {
                _otherEndpoints.Add((fqdn, port)); // endpoints that are not pods: pod changes to this host are compiled, not applied alone
            }
        }

        return result;
    }

    private List<PodDoc> Selected(ServiceDoc service) =>
        service.Selector is { Count: > 0 } selector
            ? docs.Pods.Where(p => p.Info.Namespace == service.Info.Namespace && selector.All(l => p.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList()
            : [];

    /// <summary>
    /// The protocol of the service port a pool routes to, as Istio selects it: a Service port's <c>appProtocol</c>, else
    /// its name's prefix; a ServiceEntry port's <c>protocol</c>, else its name's prefix.
    /// </summary>
    private UpstreamProtocol PortProtocol(string fqdn, int? port)
    {
        foreach (var service in docs.Services.Where(s => s.Fqdn == fqdn))
        {
            if (PickPort(service.Ports, port, p => p.Port) is { } picked)
            {
                return MeshEnums.PortProtocol(picked.AppProtocol, picked.Name);
            }
        }

        foreach (var entry in docs.ServiceEntries.Where(e => e.Hosts.Contains(fqdn)))
        {
            if (PickPort(entry.Ports, port, p => p.Number) is { } picked)
            {
                return MeshEnums.PortProtocol(picked.Protocol, picked.Name);
            }
        }

        return UpstreamProtocol.ClientProtocol;
    }

    /// <summary>The port number of a host's Service or ServiceEntry when it has exactly one port, else <see langword="null"/>.</summary>
    private int? OnlyPort(string fqdn) =>
        docs.Services.FirstOrDefault(s => s.Fqdn == fqdn) is { Ports: [var only] } ? only.Port
        : docs.ServiceEntries.FirstOrDefault(e => e.Hosts.Contains(fqdn)) is { Ports: [var entry] } ? entry.Number
        : null;

    private static T? PickPort<T>(List<T> ports, int? wanted, Func<T, int> number)
        where T : class =>
        wanted is { } w ? ports.FirstOrDefault(p => number(p) == w) : ports.Count == 1 ? ports[0] : null;

    /// <summary>The endpoint, or null with a warning where the documents' checks let a bad value through.</summary>
    private static Endpoint? TryEndpoint(
        DocumentReader r, YamlNode at, string path, string address, int port, IReadOnlyDictionary<string, string> labels, bool healthy, long weight, string? name)
    {
        try
        {
            return Endpoint.Create(address, port, labels, healthy, weight, name);
        }
        catch (RoutingValidationException e)
        {
            // Documents were checked when read; what is left (a pod IP that is not an IP) is reported, not fatal.
            r.Warning(DiagnosticCodes.InvalidValue, at, path, $"{e.Reason}; endpoint skipped");
            return null;
        }
    }

    private DocumentReader Reader(MeshDocument info) => new(info.File, diagnostics, limits);

    private sealed class Pool(string name, string host, string? subset, DestinationRuleDoc? rule, RoutingPolicy policy, List<Endpoint> endpoints, List<string> aliases, int? port, MeshDocument origin)
    {
        public string Name { get; } = name;

        public DestinationRuleDoc? Rule { get; } = rule;

        public List<Endpoint> Endpoints { get; } = endpoints;

        public List<string> Aliases { get; } = aliases;

        public MeshDocument Origin { get; } = origin;

        public List<MeshRoute>? Routes { get; set; }

        public UpstreamProtocol Protocol { get; init; }

        public ConnectionPoolPolicy? Limits { get; init; }

        public List<PodSource> PodSources { get; init; } = [];

        public IReadOnlyDictionary<string, string>? SubsetLabels { get; init; }

        public bool HasOtherEndpoints { get; init; }

        public MeshService ToService() => new(
            Name, Rule?.Info.Namespace ?? Origin.Namespace, Rule?.Info.Name ?? Origin.Name, [Name, .. Aliases], port, policy, [.. Endpoints])
        {
            DestinationHost = host,
            Subset = subset,
            RouteSpecs = Routes is null ? [] : [.. Routes],
            Protocol = Protocol,
            ConnectionPool = Limits,
            PodSources = [.. PodSources],
            SubsetLabels = SubsetLabels,
            HasOtherEndpoints = HasOtherEndpoints,
        };
    }
}
