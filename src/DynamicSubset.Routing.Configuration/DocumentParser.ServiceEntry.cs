using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Reads a ServiceEntry: its hosts, ports and inline endpoints.</summary>
internal sealed partial class DocumentParser
{
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
                ports.Add(new ServiceEntryPort(number, r.String(port, "name", path), r.Int(port, "targetPort", path, min: 1, max: 65535), r.String(port, "protocol", path)));
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
}
