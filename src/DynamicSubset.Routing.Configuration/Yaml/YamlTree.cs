using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace DynamicSubset.Routing.Configuration.Yaml;

/// <summary>A position in a source file (1-based).</summary>
internal readonly record struct SourcePosition(int Line, int Column);

/// <summary>A parsed YAML (or JSON) node that remembers where it was written.</summary>
internal abstract class YamlNode(SourcePosition position)
{
    public SourcePosition Position { get; } = position;

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

    public YamlNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key).Value;

    /// <summary>The key node of a field, to point at the field itself rather than its value.</summary>
    public ScalarNode? KeyOf(string key) => Entries.FirstOrDefault(e => e.Key.Value == key).Key;
}

/// <summary>Thrown for a file that is not well-formed YAML or JSON.</summary>
internal sealed class YamlSyntaxException(SourcePosition position, string message) : Exception(message)
{
    public SourcePosition Position { get; } = position;
}

/// <summary>Turns YAML or JSON text into positioned node trees, one per document.</summary>
internal static class YamlTree
{
    public static List<YamlNode> Parse(string text)
    {
        var parser = new Parser(new StringReader(text));
        var documents = new List<YamlNode>();
        var anchors = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var last = new SourcePosition(1, 1);
        try
        {
            parser.Consume<StreamStart>();
            while (parser.TryConsume<DocumentStart>(out var start))
            {
                last = At(start.Start);
                documents.Add(ReadNode(parser, anchors, ref last));
                parser.Consume<DocumentEnd>();
                anchors.Clear();
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
            throw new YamlSyntaxException(last, "malformed YAML or JSON after this point");
        }

        return documents;
    }

    private static YamlNode ReadNode(IParser parser, Dictionary<string, YamlNode> anchors, ref SourcePosition last)
    {
        var current = parser.Current ?? throw new YamlSyntaxException(last, "unexpected end of input");
        last = At(current.Start);
        YamlNode node;
        switch (current)
        {
            case AnchorAlias alias:
                parser.MoveNext();
                return anchors.TryGetValue(alias.Value.Value, out var target)
                    ? target
                    : throw new YamlSyntaxException(At(alias.Start), $"unknown alias '*{alias.Value.Value}'");

            case Scalar scalar:
                parser.MoveNext();
                node = new ScalarNode(At(scalar.Start), scalar.Value, scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded);
                break;

            case SequenceStart sequence:
                parser.MoveNext();
                var items = new List<YamlNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    items.Add(ReadNode(parser, anchors, ref last));
                }

                node = new SequenceNode(At(sequence.Start), items);
                break;

            case MappingStart mapping:
                parser.MoveNext();
                var entries = new List<KeyValuePair<ScalarNode, YamlNode>>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    if (ReadNode(parser, anchors, ref last) is not ScalarNode key)
                    {
                        throw new YamlSyntaxException(last, "a map key must be a scalar");
                    }

                    if (entries.Exists(e => e.Key.Value == key.Value))
                    {
                        throw new YamlSyntaxException(key.Position, $"duplicate key '{key.Value}'");
                    }

                    entries.Add(new(key, ReadNode(parser, anchors, ref last)));
                }

                node = new MappingNode(At(mapping.Start), entries);
                break;

            default:
                throw new YamlSyntaxException(At(current.Start), $"unexpected {current.GetType().Name}");
        }

        if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
        {
            anchors[anchored.Anchor.Value] = node;
        }

        return node;
    }

    private static SourcePosition At(Mark mark) => new((int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (Line...): "; the position is reported separately.
    private static string Clean(string message)
    {
        var i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return i >= 0 && message.StartsWith('(') ? message[(i + 3)..] : message;
    }
}
