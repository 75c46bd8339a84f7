using System.Globalization;

namespace DynamicSubset.Routing.Configuration.Yaml;

/// <summary>Typed, positioned reads from a node tree, reporting every problem as a diagnostic.</summary>
internal sealed class DocumentReader(string file, List<ConfigurationDiagnostic> diagnostics, MeshConfigurationLimits? limits = null)
{
    public string File { get; } = file;

    public MeshConfigurationLimits Limits { get; } = limits ?? MeshConfigurationLimits.Default;

    public int ErrorCount { get; private set; }

    public void Report(DiagnosticSeverity severity, string code, SourcePosition at, string path, string message)
    {
        if (severity == DiagnosticSeverity.Error)
        {
            ErrorCount++;
        }

        diagnostics.Add(new ConfigurationDiagnostic(severity, code, File, at.Line, at.Column, path, message));
    }

    public void Error(string code, YamlNode node, string path, string message) =>
        Report(DiagnosticSeverity.Error, code, node.Position, path, message);

    public void Warning(string code, YamlNode node, string path, string message) =>
        Report(DiagnosticSeverity.Warning, code, node.Position, path, message);

    public void Info(string code, YamlNode node, string path, string message) =>
        Report(DiagnosticSeverity.Info, code, node.Position, path, message);

    public static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public static string Item(string path, int index) => $"{path}[{index.ToString(CultureInfo.InvariantCulture)}]";

    /// <summary>The child node, or null; reports a missing required field at the parent.</summary>
    public YamlNode? Field(MappingNode parent, string key, string path, bool required)
    {
        var node = parent[key];
        if (node is ScalarNode { IsNull: true })
        {
            node = null;
        }

        if (node is null && required)
        {
            Error(DiagnosticCodes.MissingField, parent, Child(path, key), "required field is missing");
        }

        return node;
    }

    public MappingNode? Map(MappingNode parent, string key, string path, bool required = false) =>
        Field(parent, key, path, required) is { } node ? AsMap(node, Child(path, key)) : null;

    public MappingNode? AsMap(YamlNode node, string path)
    {
        if (node is MappingNode map)
        {
            return map;
        }

        WrongType(node, path, "a map");
        return null;
    }

    public SequenceNode? List(MappingNode parent, string key, string path, bool required = false)
    {
        var node = Field(parent, key, path, required);
        if (node is null or SequenceNode)
        {
            return (SequenceNode?)node;
        }

        WrongType(node, Child(path, key), "a list");
        return null;
    }

    /// <summary>The maps of a list field, each with its path (<c>path.key[i]</c>); an item that is not a map is reported and skipped.</summary>
    public IEnumerable<(MappingNode Map, string Path)> Maps(MappingNode parent, string key, string path)
    {
        var list = List(parent, key, path);
        for (var i = 0; i < (list?.Items.Count ?? 0); i++)
        {
            var item = Item(Child(path, key), i);
            if (AsMap(list!.Items[i], item) is { } map)
            {
                yield return (map, item);
            }
        }
    }

    public string? String(MappingNode parent, string key, string path, bool required = false) =>
        Field(parent, key, path, required) is { } node ? AsString(node, Child(path, key)) : null;

    public string? AsString(YamlNode node, string path)
    {
        if (node is ScalarNode { IsNull: false } scalar)
        {
            return scalar.Value;
        }

        WrongType(node, path, "a string");
        return null;
    }

    public int? Int(MappingNode parent, string key, string path, bool required = false, int min = int.MinValue, int max = int.MaxValue) =>
        (int?)Long(parent, key, path, required, min, max);

    public int? AsInt(YamlNode node, string path, int min = int.MinValue, int max = int.MaxValue) => (int?)AsLong(node, path, min, max);

    public long? Long(MappingNode parent, string key, string path, bool required = false, long min = long.MinValue, long max = long.MaxValue)
    {
        var node = Field(parent, key, path, required);
        return node is null ? null : AsLong(node, Child(path, key), min, max);
    }

    public long? AsLong(YamlNode node, string path, long min = long.MinValue, long max = long.MaxValue)
    {
        if (node is ScalarNode { Quoted: false } scalar)
        {
            if (long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                if (value < min || value > max)
                {
                    Error(DiagnosticCodes.InvalidValue, node, path, $"{value} is out of range (expected {min} to {max})");
                    return null;
                }

                return value;
            }

            // A whole number too long for 64 bits is out of range, not of the wrong type.
            var digits = scalar.Value.AsSpan().TrimStart("+-");
            if (digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9'))
            {
                Error(DiagnosticCodes.InvalidValue, node, path, $"{Shorten(scalar.Value)} is out of range (expected {min} to {max})");
                return null;
            }
        }

        WrongType(node, path, "a whole number");
        return null;
    }

    /// <summary>A value quoted in a diagnostic: long ones are cut, so a message never carries a file's bulk.</summary>
    public static string Shorten(string value) => value.Length <= 40 ? value : $"{value[..32]}... ({value.Length} characters)";

    public bool? Bool(MappingNode parent, string key, string path)
    {
        var node = Field(parent, key, path, required: false);
        if (node is null)
        {
            return null;
        }

        if (node is ScalarNode { Quoted: false, Value: "true" or "True" or "TRUE" })
        {
            return true;
        }

        if (node is ScalarNode { Quoted: false, Value: "false" or "False" or "FALSE" })
        {
            return false;
        }

        WrongType(node, Child(path, key), "true or false");
        return null;
    }

    /// <summary>A list of strings; wrong items are reported and left out.</summary>
    public List<(string Value, YamlNode Node)>? StringList(MappingNode parent, string key, string path, bool required = false)
    {
        var list = List(parent, key, path, required);
        if (list is null)
        {
            return null;
        }

        var result = new List<(string, YamlNode)>();
        for (var i = 0; i < list.Items.Count; i++)
        {
            if (AsString(list.Items[i], Item(Child(path, key), i)) is { } value)
            {
                result.Add((value, list.Items[i]));
            }
        }

        return result;
    }

    /// <summary>A map of strings (labels, selectors); wrong values are reported and left out.</summary>
    public Dictionary<string, string>? StringMap(MappingNode parent, string key, string path)
    {
        var map = Map(parent, key, path);
        if (map is null)
        {
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var max = Limits.MaxLabelLength;
        foreach (var (k, v) in map.Entries)
        {
            if (k.Value.Length > max)
            {
                Error(DiagnosticCodes.Limit, k, Child(path, key), $"a key of {k.Value.Length} characters is longer than {max} (MeshConfigurationLimits.MaxLabelLength)");
                continue;
            }

            if (AsString(v, $"{Child(path, key)}['{k.Value}']") is { } value)
            {
                if (value.Length > max)
                {
                    Error(DiagnosticCodes.Limit, v, $"{Child(path, key)}['{k.Value}']", $"a value of {value.Length} characters is longer than {max} (MeshConfigurationLimits.MaxLabelLength)");
                    continue;
                }

                result[k.Value] = value;
            }
        }

        return result;
    }

    /// <summary>
    /// Reports the fields of <paramref name="node"/> that this library does not read: Istio fields it does not
    /// support (a warning, then ignored), and fields nobody knows (an error where <paramref name="strict"/>,
    /// since a typo there changes routing; a warning elsewhere).
    /// </summary>
    public void CheckFields(MappingNode node, string path, string[] supported, string[]? unsupported = null, bool strict = false)
    {
        foreach (var (key, _) in node.Entries)
        {
            if (Array.IndexOf(supported, key.Value) >= 0)
            {
                continue;
            }

            if (unsupported is not null && Array.IndexOf(unsupported, key.Value) >= 0)
            {
                Warning(DiagnosticCodes.UnsupportedField, key, Child(path, key.Value), "supported by Istio but not by DynamicSubset.Routing; ignored");
            }
            else if (strict)
            {
                Error(DiagnosticCodes.UnknownField, key, Child(path, key.Value), $"unknown field (expected one of: {string.Join(", ", supported)})");
            }
            else
            {
                Warning(DiagnosticCodes.UnknownField, key, Child(path, key.Value), "unknown field; ignored");
            }
        }
    }

    private void WrongType(YamlNode node, string path, string expected) =>
        Error(DiagnosticCodes.WrongType, node, path, $"expected {expected}, found {Describe(node)}");

    private static string Describe(YamlNode node) => node switch
    {
        ScalarNode { IsNull: true } => "null",
        ScalarNode scalar => $"'{scalar.Value}'",
        _ => node.KindName,
    };
}

/// <summary>The stable codes of every diagnostic; docs/configuration.md lists each with an example.</summary>
internal static class DiagnosticCodes
{
    public const string Syntax = "DSR1001";
    public const string WrongType = "DSR1002";
    public const string MissingField = "DSR1003";
    public const string UnknownEnum = "DSR1004";
    public const string InvalidValue = "DSR1005";
    public const string UnknownField = "DSR1006";
    public const string Duplicate = "DSR1007";
    public const string Unreadable = "DSR1008";
    public const string Limit = "DSR1009";
    public const string Empty = "DSR1010";
    public const string UnsupportedField = "DSR2001";
    public const string UnusedMappingKey = "DSR2003";
    public const string DefaultSubsetMatchesNothing = "DSR2004";
    public const string EmptyDefaultSubset = "DSR2005";
    public const string UnusedDefaultSubset = "DSR2006";
    public const string SameKeySet = "DSR2007";
    public const string DestinationWithoutRule = "DSR2008";
    public const string ServiceSelectsNoPod = "DSR2009";
    public const string PortNotFound = "DSR2010";
    public const string NoVirtualService = "DSR2011";
    public const string UnmappedSelectorKey = "DSR2012";
    public const string UnknownSubset = "DSR2013";
    public const string UnreachableRoute = "DSR2014";
    public const string HostClaimed = "DSR2015";
    public const string UnusedDelegate = "DSR2016";
    public const string DelegateNotFound = "DSR2017";
    public const string FailoverWithoutOutlierDetection = "DSR2018";
    public const string SkippedKind = "DSR3001";
    public const string PodWithoutIp = "DSR3002";
}
