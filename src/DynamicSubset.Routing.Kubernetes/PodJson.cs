using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using DynamicSubset.Routing.Configuration;
using k8s;

namespace DynamicSubset.Routing.Kubernetes;

/// <summary>
/// Reads pods straight from the API server's JSON into what routing keeps of them (<see cref="PodFacts"/>), in one pass
/// that skips every other field. A pod as an API server serves it is several KB (managed fields, the whole spec, container
/// statuses) of which routing reads a few hundred bytes; KubernetesClient's typed model builds all of it first.
/// </summary>
internal static class PodJson
{
    /// <summary>The longest line a watch may send: one object, however large, is far below it; past it the stream is not an API server's.</summary>
    public const int MaxEventBytes = 16 * 1024 * 1024;

    /// <summary>Reads one page of a pod list: its resourceVersion, its pods, and the token of the next page.</summary>
    /// <exception cref="JsonException">The page is not a pod list.</exception>
    public static ListedPage ReadList(ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        Expect(ref reader, JsonTokenType.StartObject, "a pod list");
        string? resourceVersion = null;
        string? next = null;
        var items = new List<KubeObject>();
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                Expect(ref reader, JsonTokenType.StartObject, "metadata");
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("resourceVersion"u8))
                    {
                        resourceVersion = ReadString(ref reader);
                    }
                    else if (reader.ValueTextEquals("continue"u8))
                    {
                        next = ReadString(ref reader);
                    }
                    else
                    {
                        SkipValue(ref reader);
                    }
                }
            }
            else if (reader.ValueTextEquals("items"u8))
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                Require(ref reader, JsonTokenType.StartArray, "items");
                while (NextElement(ref reader, "items[]"))
                {
                    var facts = ReadPod(ref reader, out var version);
                    items.Add(new KubeObject(Key(facts), version ?? "", facts));
                }
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new ListedPage(resourceVersion ?? "", items, next is { Length: > 0 } ? next : null);
    }

    /// <summary>
    /// Reads one line of a watch: ADDED, MODIFIED or DELETED with the pod's facts, BOOKMARK with its resourceVersion, or
    /// ERROR with the Status's code and message (as a <see cref="JsonObject"/> payload, as other kinds give it).
    /// </summary>
    /// <exception cref="JsonException">The line is not a watch event.</exception>
    public static (WatchEventType Type, KubeObject Object) ReadEvent(ReadOnlySequence<byte> line)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 256 });
        Expect(ref reader, JsonTokenType.StartObject, "a watch event");
        WatchEventType? type = null;
        PodFacts? facts = null;
        string? version = null;
        JsonObject? status = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                type = ReadString(ref reader) switch
                {
                    "ADDED" => WatchEventType.Added,
                    "MODIFIED" => WatchEventType.Modified,
                    "DELETED" => WatchEventType.Deleted,
                    "BOOKMARK" => WatchEventType.Bookmark,
                    "ERROR" => WatchEventType.Error,
                    var other => throw new JsonException($"a watch event of unknown type '{Shorten(other)}'"),
                };
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                Expect(ref reader, JsonTokenType.StartObject, "the event's object");

                // Read as a pod and as a Status at once: the type may come after the object.
                facts = ReadPod(ref reader, out version, out status);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return type switch
        {
            null => throw new JsonException("a watch event without a type"),
            _ when facts is null => throw new JsonException("a watch event without an object"),
            WatchEventType.Error => (WatchEventType.Error, new KubeObject("", version ?? "", status ?? new JsonObject())),
            WatchEventType.Bookmark => (WatchEventType.Bookmark, new KubeObject("", version ?? "", null)),
            var kind => (kind.Value, new KubeObject(Key(facts), version ?? "", facts)),
        };
    }

    /// <summary>The key a pod is known by: <c>Pod namespace/name</c>.</summary>
    private static string Key(PodFacts facts) => $"Pod {facts.Namespace}/{facts.Name}";

    /// <summary>Reads a pod object (the reader on its start), keeping only what routing reads.</summary>
    internal static PodFacts ReadPod(ref Utf8JsonReader reader, out string? resourceVersion) => ReadPod(ref reader, out resourceVersion, out _);

    private static PodFacts ReadPod(ref Utf8JsonReader reader, out string? resourceVersion, out JsonObject? status)
    {
        resourceVersion = null;
        status = null;
        string? name = null;
        string? ns = null;
        Dictionary<string, string>? labels = null;
        List<string>? ips = null;
        List<ContainerPort>? ports = null;
        var ready = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                Expect(ref reader, JsonTokenType.StartObject, "metadata");
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8))
                    {
                        name = ReadString(ref reader);
                    }
                    else if (reader.ValueTextEquals("namespace"u8))
                    {
                        ns = ReadShared(ref reader);
                    }
                    else if (reader.ValueTextEquals("resourceVersion"u8))
                    {
                        resourceVersion = ReadString(ref reader);
                    }
                    else if (reader.ValueTextEquals("labels"u8))
                    {
                        labels = ReadLabels(ref reader);
                    }
                    else
                    {
                        SkipValue(ref reader);
                    }
                }
            }
            else if (reader.ValueTextEquals("spec"u8))
            {
                ports = ReadContainerPorts(ref reader);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    (ips, ready) = ReadPodStatus(ref reader);
                }
                else
                {
                    reader.Skip(); // a Status object's own "status": "Failure"
                }
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                // A Status (an ERROR event's object): its code and message, for the informer to tell a 410 from others.
                Next(ref reader);
                status ??= [];
                status["code"] = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var code) ? code : null;
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                status ??= [];
                status["message"] = ReadString(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new PodFacts(
            name ?? "",
            ns ?? Pods.Shared("default"),
            (IReadOnlyDictionary<string, string>?)labels ?? new Dictionary<string, string>(0, StringComparer.Ordinal),
            (IReadOnlyList<string>?)ips ?? [],
            ready,
            (IReadOnlyList<ContainerPort>?)ports ?? []);
    }

    private static Dictionary<string, string>? ReadLabels(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Require(ref reader, JsonTokenType.StartObject, "metadata.labels");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var key = Pods.Shared(ref reader);
            Next(ref reader);
            labels[key] = reader.TokenType switch
            {
                JsonTokenType.String => Pods.Shared(ref reader),
                JsonTokenType.Null => "", // the API server never sends it, but do not fail on it
                _ => throw new JsonException($"metadata.labels.{Shorten(key)} is not a string"),
            };
        }

        return labels;
    }

    /// <summary><c>spec.containers[].ports[]</c>: each port's name and number.</summary>
    private static List<ContainerPort>? ReadContainerPorts(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        List<ContainerPort>? ports = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("containers"u8))
            {
                SkipValue(ref reader);
            }
            else if (ArrayValue(ref reader))
            {
                while (NextElement(ref reader, "spec.containers[]"))
                {
                    ReadPorts(ref reader, ref ports);
                }
            }
        }

        return ports;
    }

    /// <summary>One container's <c>ports[]</c> (the reader on the container's start).</summary>
    private static void ReadPorts(ref Utf8JsonReader reader, ref List<ContainerPort>? ports)
    {
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("ports"u8))
            {
                SkipValue(ref reader);
                continue;
            }

            if (!ArrayValue(ref reader))
            {
                continue;
            }

            while (NextElement(ref reader, "spec.containers[].ports[]"))
            {
                string? name = null;
                var number = 0;
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8))
                    {
                        name = ReadString(ref reader);
                    }
                    else if (reader.ValueTextEquals("containerPort"u8))
                    {
                        Next(ref reader);
                        number = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n : throw new JsonException("spec.containers[].ports[].containerPort is not a number");
                    }
                    else
                    {
                        SkipValue(ref reader);
                    }
                }

                (ports ??= []).Add(new ContainerPort(name, number));
            }
        }
    }

    /// <summary><c>status.podIP</c>, then the other <c>status.podIPs</c>; and whether the <c>Ready</c> condition is <c>True</c>.</summary>
    private static (List<string>? Ips, bool Ready) ReadPodStatus(ref Utf8JsonReader reader)
    {
        string? first = null;
        List<string>? more = null;
        var ready = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("podIP"u8))
            {
                first = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("podIPs"u8))
            {
                if (!ArrayValue(ref reader))
                {
                    continue;
                }

                while (NextElement(ref reader, "status.podIPs[]"))
                {
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        if (!reader.ValueTextEquals("ip"u8))
                        {
                            SkipValue(ref reader);
                        }
                        else if (ReadString(ref reader) is { Length: > 0 } ip)
                        {
                            (more ??= []).Add(ip);
                        }
                    }
                }
            }
            else if (reader.ValueTextEquals("conditions"u8))
            {
                if (!ArrayValue(ref reader))
                {
                    continue;
                }

                while (NextElement(ref reader, "status.conditions[]"))
                {
                    bool isReady = false, isTrue = false;
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("type"u8))
                        {
                            Next(ref reader);
                            isReady = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("Ready"u8);
                        }
                        else if (reader.ValueTextEquals("status"u8))
                        {
                            Next(ref reader);
                            isTrue = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("True"u8);
                        }
                        else
                        {
                            SkipValue(ref reader);
                        }
                    }

                    ready |= isReady && isTrue;
                }
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        var ips = new List<string>(1 + (more?.Count ?? 0));
        if (first is { Length: > 0 })
        {
            ips.Add(first);
        }

        foreach (var ip in more ?? [])
        {
            if (!ips.Contains(ip))
            {
                ips.Add(ip);
            }
        }

        return (ips, ready);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("the JSON ends early");

    /// <summary>Reads a property's value: <see langword="true"/> at the start of an array; anything else (a null) is skipped.</summary>
    private static bool ArrayValue(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) == JsonTokenType.StartArray)
        {
            return true;
        }

        reader.Skip();
        return false;
    }

    /// <summary>The next element of an array of objects: <see langword="true"/> on an object's start, <see langword="false"/> at the array's end.</summary>
    private static bool NextElement(ref Utf8JsonReader reader, string what) => Next(ref reader) switch
    {
        JsonTokenType.StartObject => true,
        JsonTokenType.EndArray => false,
        var other => throw new JsonException($"{what} is {other} where an object was expected"),
    };

    /// <summary>Moves past a property's value, whatever it is.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        reader.Skip();
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        Next(ref reader);
        Require(ref reader, type, what);
    }

    private static void Require(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (reader.TokenType != type)
        {
            throw new JsonException($"{what} is {reader.TokenType} where {type} was expected");
        }
    }

    /// <summary>A string value, or <see langword="null"/> for JSON null.</summary>
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Null => null,
            _ => throw new JsonException($"a string was expected, not {reader.TokenType}"),
        };
    }

    private static string? ReadShared(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.TokenType switch
        {
            JsonTokenType.String => Pods.Shared(ref reader),
            JsonTokenType.Null => null,
            _ => throw new JsonException($"a string was expected, not {reader.TokenType}"),
        };
    }

    private static string Shorten(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64] + "...";
}
