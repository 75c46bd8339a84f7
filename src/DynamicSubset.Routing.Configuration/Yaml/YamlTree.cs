using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace DynamicSubset.Routing.Configuration.Yaml;

/// <summary>A position in a source file (1-based).</summary>
internal readonly record struct SourcePosition(int Line, int Column);

/// <summary>A parsed YAML (or JSON) node that remembers where it was written.</summary>
internal abstract class YamlNode(SourcePosition position)
{
    public SourcePosition Position { get; } = position;

    /// <summary>Gets how many nodes this tree holds, aliases counted as what they repeat (saturating): what an alias to it costs.</summary>
    public long Size { get; init; } = 1;

    public abstract string KindName { get; }
}

internal sealed class ScalarNode(SourcePosition position, string value, bool quoted) : YamlNode(position)
{
    public string Value { get; } = value;

    /// <summary>Gets a value indicating whether the scalar was quoted: <c>'1'</c> is a string, <c>1</c> is a number.</summary>
    public bool Quoted { get; } = quoted;

    public bool IsNull => !Quoted && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string KindName => IsNull ? "null" : "a scalar";
}

internal sealed class SequenceNode(SourcePosition position, List<YamlNode> items) : YamlNode(position)
{
    public List<YamlNode> Items { get; } = items;

    public override string KindName => "a list";
}

internal sealed class MappingNode(SourcePosition position, List<KeyValuePair<ScalarNode, YamlNode>> entries) : YamlNode(position)
{
    public List<KeyValuePair<ScalarNode, YamlNode>> Entries { get; } = entries;

    public override string KindName => "a map";

    private Dictionary<string, int>? _index; // keys are unique (the reader refuses duplicates); built on the first lookup in a large map

    public YamlNode? this[string key] => Find(key) is var i and >= 0 ? Entries[i].Value : null;

    /// <summary>The key node of a field, to point at the field itself rather than its value.</summary>
    public ScalarNode? KeyOf(string key) => Find(key) is var i and >= 0 ? Entries[i].Key : null;

    /// <summary>
    /// The entry of a key: a scan in a small map, a hash in a large one. Reading every field of a map of 50,000 header
    /// matches by key, as a VirtualService's reader does, took 4 s with a scan per lookup.
    /// </summary>
    private int Find(string key)
    {
        var entries = Entries;
        if (entries.Count <= 8)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                if (entries[i].Key.Value == key)
                {
                    return i;
                }
            }

            return -1;
        }

        if (_index is null)
        {
            var index = new Dictionary<string, int>(entries.Count, StringComparer.Ordinal);
            for (var i = 0; i < entries.Count; i++)
            {
                index.TryAdd(entries[i].Key.Value, i);
            }

            _index = index;
        }

        return _index.TryGetValue(key, out var found) ? found : -1;
    }
}

/// <summary>Thrown for a file that is not well-formed YAML or JSON.</summary>
internal sealed class YamlSyntaxException(SourcePosition position, string message) : Exception(message)
{
    public SourcePosition Position { get; } = position;
}

/// <summary>Turns YAML or JSON text into positioned node trees, one per document, within <see cref="MeshConfigurationLimits"/>.</summary>
internal static class YamlTree
{
    public static List<YamlNode> Parse(string text, MeshConfigurationLimits? limits = null)
    {
        var reader = new Reader(new Parser(new StringReader(text)), limits ?? MeshConfigurationLimits.Default);
        return reader.ReadStream();
    }

    /// <summary>One file's read: its anchors, the aliases' expansion so far, and the last position seen.</summary>
    private sealed class Reader(IParser parser, MeshConfigurationLimits limits)
    {
        private readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
        private SourcePosition _last = new(1, 1);
        private long _expanded;

        public List<YamlNode> ReadStream()
        {
            var documents = new List<YamlNode>();
            try
            {
                parser.Consume<StreamStart>();
                while (parser.TryConsume<DocumentStart>(out var start))
                {
                    _last = At(start.Start);
                    if (documents.Count == limits.MaxDocuments)
                    {
                        throw new YamlSyntaxException(_last, $"more than {limits.MaxDocuments} documents (MeshConfigurationLimits.MaxDocuments)");
                    }

                    documents.Add(ReadNode(depth: 0));
                    parser.Consume<DocumentEnd>();
                    _anchors.Clear();
                }

                parser.Consume<StreamEnd>();
            }
            catch (YamlException e)
            {
                throw new YamlSyntaxException(At(e.Start), Clean(e.Message));
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // YamlDotNet throws these on some malformed input; the last event read is the best position we have.
                throw new YamlSyntaxException(_last, "malformed YAML or JSON after this point");
            }

            return documents;
        }

        private YamlNode ReadNode(int depth)
        {
            var current = parser.Current ?? throw new YamlSyntaxException(_last, "unexpected end of input");
            _last = At(current.Start);
            YamlNode node;
            switch (current)
            {
                case AnchorAlias alias:
                    parser.MoveNext();
                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        throw new YamlSyntaxException(At(alias.Start), $"unknown alias '*{alias.Value.Value}'");
                    }

                    // The tree is shared, not copied, but every reader of it walks it again: count what it repeats.
                    _expanded = SaturatingAdd(_expanded, target.Size);
                    if (_expanded > limits.MaxAliasExpansion)
                    {
                        throw new YamlSyntaxException(At(alias.Start),
                            $"aliases stand for more than {limits.MaxAliasExpansion} nodes (MeshConfigurationLimits.MaxAliasExpansion)");
                    }

                    return target;

                case Scalar scalar:
                    parser.MoveNext();
                    node = new ScalarNode(At(scalar.Start), scalar.Value, scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded);
                    break;

                case SequenceStart sequence:
                    CheckDepth(depth, sequence);
                    parser.MoveNext();
                    var items = new List<YamlNode>();
                    long itemsSize = 1;
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        var item = ReadNode(depth + 1);
                        itemsSize = SaturatingAdd(itemsSize, item.Size);
                        items.Add(item);
                    }

                    node = new SequenceNode(At(sequence.Start), items) { Size = itemsSize };
                    break;

                case MappingStart mapping:
                    CheckDepth(depth, mapping);
                    parser.MoveNext();
                    var entries = new List<KeyValuePair<ScalarNode, YamlNode>>();
                    var keys = new HashSet<string>(StringComparer.Ordinal);
                    long entriesSize = 1;
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        if (ReadNode(depth + 1) is not ScalarNode key)
                        {
                            throw new YamlSyntaxException(_last, "a map key must be a scalar");
                        }

                        if (!keys.Add(key.Value))
                        {
                            throw new YamlSyntaxException(key.Position, $"duplicate key '{DocumentReader.Shorten(key.Value)}'");
                        }

                        var value = ReadNode(depth + 1);
                        entriesSize = SaturatingAdd(entriesSize, SaturatingAdd(1, value.Size));
                        entries.Add(new(key, value));
                    }

                    node = new MappingNode(At(mapping.Start), entries) { Size = entriesSize };
                    break;

                default:
                    throw new YamlSyntaxException(At(current.Start), $"unexpected {current.GetType().Name}");
            }

            if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
            {
                _anchors[anchored.Anchor.Value] = node;
            }

            return node;
        }

        private void CheckDepth(int depth, ParsingEvent at)
        {
            // Checked before descending: the reader recurses, so an unbounded depth would overflow the stack.
            if (depth >= limits.MaxDepth)
            {
                throw new YamlSyntaxException(At(at.Start), $"nested more than {limits.MaxDepth} levels deep (MeshConfigurationLimits.MaxDepth)");
            }
        }

        private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
    }

    private static SourcePosition At(Mark mark) => new((int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (Line...): "; the position is reported separately.
    private static string Clean(string message)
    {
        var i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return i >= 0 && message.StartsWith('(') ? message[(i + 3)..] : message;
    }
}
