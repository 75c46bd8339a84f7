using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Reads a Pod: its labels, IPs, readiness and container ports.</summary>
internal sealed partial class DocumentParser
{
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
        return new PodDoc(info, Shared(labels), ips, ready, containerPorts, new ScalarNode(doc.Position, "", quoted: false));
    }

    /// <summary>
    /// The labels as the one set the pod's endpoints share. Labels a set refuses (an empty key) stay as read: making the
    /// endpoint reports them, with the pod, as for any endpoint a document lets through.
    /// </summary>
    private static IReadOnlyDictionary<string, string> Shared(Dictionary<string, string> labels)
    {
        try
        {
            return LabelSet.Create(labels);
        }
        catch (RoutingValidationException)
        {
            return labels;
        }
    }
}
