using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Reads a Kubernetes Service: its selector and ports.</summary>
internal sealed partial class DocumentParser
{
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
                ports.Add(new ServicePort(port.Value, name, targetNumber, targetName, r.String(item, "appProtocol", path), item));
            }
        }

        return new(info, selector, ports, doc);
    }
}
