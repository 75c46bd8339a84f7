using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// Reads the documents of one file into a <see cref="DocumentSet"/>, reporting every problem. One partial file per kind
/// (<c>DocumentParser.DestinationRule.cs</c>, <c>.VirtualService.cs</c>, <c>.Service.cs</c>, <c>.Pod.cs</c>,
/// <c>.ServiceEntry.cs</c>, <c>.WorkloadEntry.cs</c>); this one dispatches by kind and holds what they share.
/// </summary>
internal sealed partial class DocumentParser(DocumentReader r)
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
