using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Reads a WorkloadEntry (or a ServiceEntry endpoint): its address, labels, ports and weight.</summary>
internal sealed partial class DocumentParser
{
    private WorkloadDoc? Workload(MappingNode node, string path, MeshDocument info, bool requireAddress)
    {
        r.CheckFields(node, path, ["address", "labels", "ports", "weight", "locality"], ["network", "serviceAccount"]);
        var address = r.String(node, "address", path, requireAddress);
        var labels = r.StringMap(node, "labels", path) ?? [];
        if (r.String(node, "locality", path) is { } text)
        {
            // Istio's locality of a workload: region/zone/subzone, kept as the topology labels endpoints carry it in.
            if (Locality.TryParse(text, out var locality))
            {
                labels.TryAdd(Locality.RegionLabel, locality.Region);
                AddIfSet(labels, Locality.ZoneLabel, locality.Zone);
                AddIfSet(labels, Locality.SubzoneLabel, locality.Subzone);
            }
            else
            {
                r.Error(DiagnosticCodes.InvalidValue, node["locality"]!, path + ".locality", $"'{DocumentReader.Shorten(text)}' is not a locality: expected region, region/zone or region/zone/subzone");
            }
        }

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

    private static void AddIfSet(Dictionary<string, string> labels, string key, string value)
    {
        if (value.Length > 0)
        {
            labels.TryAdd(key, value);
        }
    }
}
