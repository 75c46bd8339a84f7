using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// A request written as one JSON object: the line of the CLI's batch contract (<c>dynsubset resolve --requests</c>,
/// <c>dynsubset diff --requests</c>) and the body of the admin page's explain.
/// </summary>
/// <remarks>
/// The form is <c>{"service": "...", "headers": {"name": "value", "other": ["v1", "v2"]}, "method": "GET",
/// "path": "/items?id=3", "authority": "...", "scheme": "http", "port": 8080, "sourceIp": "10.0.0.7"}</c>; every field
/// is optional. One reader for every place that takes this form, so that they accept and refuse the same lines.
/// </remarks>
public sealed class RecordedRequest
{
    private const int Shown = 64;

    private RecordedRequest(string? service, IHeaderDictionary headers, RouteRequest request)
    {
        Service = service;
        Headers = headers;
        Request = request;
    }

    /// <summary>Gets the service's name (<c>service</c>), or <see langword="null"/> when the line names none.</summary>
    public string? Service { get; }

    /// <summary>Gets the request's headers; empty when the line has none.</summary>
    public IHeaderDictionary Headers { get; }

    /// <summary>Gets what a VirtualService's matches look at: method, path, authority, scheme, port and caller.</summary>
    public RouteRequest Request { get; }

    /// <summary>Reads a request from a JSON object.</summary>
    /// <param name="line">The JSON object.</param>
    /// <param name="request">The request.</param>
    /// <param name="error">What is wrong, naming the field (<c>headers.x-stage: ...</c>), when the object is not of the form.</param>
    /// <returns><see langword="true"/> if the request was read.</returns>
    public static bool TryRead(JsonElement line, [NotNullWhen(true)] out RecordedRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (line.ValueKind != JsonValueKind.Object)
        {
            error = """expected an object like {"headers": {"name": "value"}, "path": "/"}""";
            return false;
        }

        IHeaderDictionary headers = new HeaderDictionary();
        if (line.TryGetProperty("headers", out var given) && !TryReadHeaders(given, out headers, out error))
        {
            return false;
        }

        if (!TryText(line, "service", out var service, out error) ||
            !TryText(line, "method", out var method, out error) ||
            !TryText(line, "path", out var path, out error) ||
            !TryText(line, "authority", out var authority, out error) ||
            !TryText(line, "scheme", out var scheme, out error))
        {
            return false;
        }

        if (method is { Length: 0 })
        {
            error = "method: expected a method such as GET";
            return false;
        }

        path ??= "/";
        if (path.Length == 0 || path[0] != '/')
        {
            error = $"path: '{Shorten(path)}' is not a path: it must start with '/' (the query may follow, as /items?id=3)";
            return false;
        }

        var port = 0;
        if (line.TryGetProperty("port", out var portValue) && portValue.ValueKind != JsonValueKind.Null &&
            (portValue.ValueKind != JsonValueKind.Number || !portValue.TryGetInt32(out port) || port is < 1 or > 65535))
        {
            error = $"port: '{Shorten(portValue.ToString())}' is not a number from 1 to 65535";
            return false;
        }

        IPAddress? caller = null;
        if (line.TryGetProperty("sourceIp", out var ip) && ip.ValueKind != JsonValueKind.Null &&
            (ip.ValueKind != JsonValueKind.String || !IPAddress.TryParse(ip.GetString(), out caller)))
        {
            error = $"sourceIp: '{Shorten(ip.ValueKind == JsonValueKind.String ? ip.GetString()! : ip.GetRawText())}' is not an IP address";
            return false;
        }

        request = new RecordedRequest(service, headers, new RouteRequest(method ?? "GET", path, authority, scheme ?? "http", port, caller));
        error = null;
        return true;
    }

    private static bool TryReadHeaders(JsonElement headers, out IHeaderDictionary result, [NotNullWhen(false)] out string? error)
    {
        var read = new HeaderDictionary();
        result = read;
        if (headers.ValueKind != JsonValueKind.Object)
        {
            error = "headers: expected an object of header names to a string or a list of strings";
            return false;
        }

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
                error = $"headers.{Shorten(header.Name)}: expected a string or a list of strings";
                return false;
            }
        }

        error = null;
        return true;
    }

    private static bool TryText(JsonElement line, string name, out string? value, [NotNullWhen(false)] out string? error)
    {
        (value, error) = (null, null);
        if (!line.TryGetProperty(name, out var given) || given.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (given.ValueKind != JsonValueKind.String)
        {
            error = $"{name}: expected a string, not '{Shorten(given.GetRawText())}'";
            return false;
        }

        value = given.GetString();
        return true;
    }

    private static string Shorten(string text) =>
        text.Length <= Shown ? text : string.Concat(text.AsSpan(0, Shown), "...");
}
