using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Turns accepted documents into services: policy, header mappings, endpoints; and the lint warnings.</summary>
internal sealed class ServiceCompiler(DocumentSet docs, List<ConfigurationDiagnostic> diagnostics, MeshConfigurationLimits limits)
{
    public List<MeshService> Compile()
    {
        var services = new List<MeshService>();
        var ruleHosts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in docs.DestinationRules)
        {
            var r = Reader(rule.Info);
            if (!ruleHosts.Add(rule.Fqdn))
            {
                r.Error(DiagnosticCodes.Duplicate, rule.HostNode, "spec.host", $"another DestinationRule already has host {rule.Fqdn}; only the first is used");
                continue;
            }

            if (rule.Policy is null)
            {
                r.Report(DiagnosticSeverity.Info, DiagnosticCodes.SkippedKind, new(rule.Info.Line, 1), "",
                    $"DestinationRule '{rule.Info.Name}' has no trafficPolicy.loadBalancer.dynamicSubset; not routed by DynamicSubset.Routing");
                continue;
            }

            if (Compile(rule, r) is { } service)
            {
                services.Add(service);
            }
        }

        foreach (var service in docs.Services.Where(s => Selected(s).Count == 0))
        {
            // Without any Pod document the endpoints must come from elsewhere, so that is only a note.
            var pods = docs.Pods.Count > 0;
            Reader(service.Info).Report(pods ? DiagnosticSeverity.Warning : DiagnosticSeverity.Info, DiagnosticCodes.ServiceSelectsNoPod, new(service.Info.Line, 1), "spec.selector",
                pods ? $"Service '{service.Info.Name}' selects no pod" : $"Service '{service.Info.Name}' selects no pod: no Pod documents were given");
        }

        foreach (var vs in docs.VirtualServices)
        {
            foreach (var route in vs.Http)
            {
                foreach (var destination in route.Destinations.Where(d => !ruleHosts.Contains(d.Host)))
                {
                    Reader(vs.Info).Warning(DiagnosticCodes.DestinationWithoutRule, destination.Node, destination.Path,
                        $"no DestinationRule has host {destination.Host}; requests to it are not routed by dynamic subsets");
                }
            }
        }

        return services;
    }

    private MeshService? Compile(DestinationRuleDoc rule, DocumentReader r)
    {
        var policy = rule.Policy!;
        var dsPath = "spec.trafficPolicy.loadBalancer.dynamicSubset";

        // The VirtualService route that sends traffic to this host gives the header mappings and the port.
        var routes = docs.VirtualServices
            .SelectMany(vs => vs.Http.Select(route => (vs, route)))
            .Where(x => x.route.Destinations.Exists(d => d.Host == rule.Fqdn))
            .ToList();
        var (routeVs, route) = routes.FirstOrDefault(x => x.route.Mappings.Count > 0);
        if (route is null)
        {
            (routeVs, route) = routes.FirstOrDefault();
        }

        if (route is null || route.Mappings.Count == 0)
        {
            r.Warning(DiagnosticCodes.NoVirtualService, rule.HostNode, "spec.host",
                $"no VirtualService route to {rule.Fqdn} has headerToDynamicSubsetKey; every request gets the global fallback policy");
        }

        var mappings = route?.Mappings ?? [];
        var port = routes.SelectMany(x => x.route.Destinations).FirstOrDefault(d => d.Host == rule.Fqdn && d.Port is not null)?.Port;
        var loadBalancing = rule.Simple ?? LoadBalancingPolicy.LeastRequest;
        var routingPolicy = new RoutingPolicy(policy, mappings, loadBalancing) { OutlierDetection = rule.OutlierDetection };

        var endpoints = Endpoints(rule.Fqdn, port);
        if (endpoints.Count > limits.MaxEndpointsPerService)
        {
            r.Error(DiagnosticCodes.Limit, rule.HostNode, "spec.host",
                $"{rule.Fqdn} has {endpoints.Count} endpoints, more than {limits.MaxEndpointsPerService} (MeshConfigurationLimits.MaxEndpointsPerService)");
            return null;
        }

        Lint(rule, r, dsPath, routeVs, route, endpoints);

        var hosts = new List<string> { rule.Fqdn };
        hosts.AddRange(routes.SelectMany(x => x.vs.Hosts).Where(h => !hosts.Contains(h)).Distinct());
        return new MeshService(rule.Fqdn, rule.Info.Namespace, rule.Info.Name, [.. hosts], port, routingPolicy, [.. endpoints]);
    }

    private void Lint(DestinationRuleDoc rule, DocumentReader r, string dsPath, VirtualServiceDoc? vs, HttpRoute? route, List<Endpoint> endpoints)
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
        var result = new List<Endpoint>();
        var seen = new Dictionary<EndpointAddress, string>();

        void Add(Endpoint endpoint, DocumentReader r, YamlNode at, string path)
        {
            if (seen.TryGetValue(endpoint.AddressKey, out var other))
            {
                r.Warning(DiagnosticCodes.Duplicate, at, path, $"{endpoint} is already an endpoint of {fqdn} ({other}); skipped");
                return;
            }

            seen[endpoint.AddressKey] = endpoint.Name ?? endpoint.ToString();
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

            var selected = Selected(service);
            foreach (var pod in selected)
            {
                var target = servicePort.TargetPort ?? (servicePort.TargetPortName is { } name
                    ? pod.ContainerPorts.FirstOrDefault(c => c.Name == name).Port is var p and > 0 ? p : null
                    : servicePort.Port);
                var podReader = Reader(pod.Info);
                if (target is null)
                {
                    podReader.Warning(DiagnosticCodes.PortNotFound, pod.Node, "spec.containers",
                        $"pod '{pod.Info.Name}' has no container port named '{servicePort.TargetPortName}' (Service '{service.Info.Name}' targetPort); skipped");
                    continue;
                }

                foreach (var ip in pod.Ips)
                {
                    if (TryEndpoint(podReader, pod.Node, "status.podIP", () => Endpoint.Create(ip, target.Value, pod.Labels, pod.Ready, 1, pod.Info.Name)) is { } endpoint)
                    {
                        Add(endpoint, podReader, pod.Node, "status.podIP");
                    }
                }
            }
        }

        foreach (var entry in docs.ServiceEntries.Where(e => e.Hosts.Contains(fqdn)))
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
            foreach (var workload in workloads)
            {
                var number = (entryPort!.Name is { } n && workload.Ports.TryGetValue(n, out var mapped) ? mapped : (int?)null) ?? entryPort.TargetPort ?? entryPort.Number;
                var name = workload.Info.Kind == "WorkloadEntry" ? workload.Info.Name : null;
                var wr = Reader(workload.Info);
                if (TryEndpoint(wr, workload.Node, workload.Path, () => Endpoint.Create(workload.Address, number, workload.Labels, true, workload.Weight, name)) is { } endpoint)
                {
                    Add(endpoint, wr, workload.Node, workload.Path);
                }
            }
        }

        return result;
    }

    private List<PodDoc> Selected(ServiceDoc service) =>
        service.Selector is { Count: > 0 } selector
            ? docs.Pods.Where(p => p.Info.Namespace == service.Info.Namespace && selector.All(l => p.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList()
            : [];

    private static T? PickPort<T>(List<T> ports, int? wanted, Func<T, int> number)
        where T : class =>
        wanted is { } w ? ports.FirstOrDefault(p => number(p) == w) : ports.Count == 1 ? ports[0] : null;

    private static Endpoint? TryEndpoint(DocumentReader r, YamlNode at, string path, Func<Endpoint> create)
    {
        try
        {
            return create();
        }
        catch (RoutingValidationException e)
        {
            // Documents were checked when read; what is left (a pod IP that is not an IP) is reported, not fatal.
            r.Warning(DiagnosticCodes.InvalidValue, at, path, $"{e.Reason}; endpoint skipped");
            return null;
        }
    }

    private DocumentReader Reader(MeshDocument info) => new(info.File, diagnostics, limits);
}
