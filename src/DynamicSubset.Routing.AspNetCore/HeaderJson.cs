using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// A request's headers as JSON, the form that the CLI's batch contract (<c>dynsubset resolve --requests</c>) and the
/// admin page's explain both read: <c>{"name": "value", "other": ["v1", "v2"]}</c>.
/// </summary>
public static class HeaderJson
{
    /// <summary>Reads headers from a JSON object of header names to a string or a list of strings.</summary>
    /// <param name="headers">The JSON object.</param>
    /// <param name="result">The headers.</param>
    /// <param name="error">What is wrong, naming the field (<c>headers.x-stage: ...</c>), when the JSON is not of that form.</param>
    /// <returns><see langword="true"/> if the headers were read.</returns>
    public static bool TryRead(JsonElement headers, [NotNullWhen(true)] out IHeaderDictionary? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (headers.ValueKind != JsonValueKind.Object)
        {
            error = "headers: expected an object of header names to a string or a list of strings";
            return false;
        }

        var read = new HeaderDictionary();
        foreach (var header in headers.EnumerateObject())
        {
            if (header.Value.ValueKind == JsonValueKind.String)
            {
                read[header.Name] = StringValues.Concat(read[header.Name], header.Value.GetString());
            }
            else if (header.Value.ValueKind == JsonValueKind.Array && header.Value.EnumerateArray().All(static v => v.ValueKind == JsonValueKind.String))
            {
                read[header.Name] = StringValues.Concat(read[header.Name], new StringValues([.. header.Value.EnumerateArray().Select(static v => v.GetString()!)]));
            }
            else
            {
                error = $"headers.{header.Name}: expected a string or a list of strings";
                return false;
            }
        }

        (result, error) = (read, null);
        return true;
    }
}
