using System.Globalization;
using System.Text.RegularExpressions;
using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// Reads what a VirtualService route does besides choosing a destination: <c>rewrite</c>, <c>headers</c>,
/// <c>redirect</c>, <c>directResponse</c>, <c>fault</c>, <c>mirror</c>/<c>mirrors</c> and <c>corsPolicy</c>.
/// </summary>
internal sealed partial class DocumentParser
{
    /// <summary>Envoy's gRPC status names, as Istio's <c>abort.grpcStatus</c> takes them.</summary>
    private static readonly string[] GrpcStatusNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    private static readonly string[] AnswerFields = ["redirect", "directResponse", "route"];

    private HttpRouteActions Actions(MappingNode route, string routePath, List<HttpRouteMatch> matches, MeshDocument info)
    {
        var actions = new HttpRouteActions
        {
            Rewrite = r.Map(route, "rewrite", routePath) is { } rewrite ? Rewrite(rewrite, routePath + ".rewrite", route, routePath, matches) : null,
            Headers = r.Map(route, "headers", routePath) is { } headers ? HeaderRules(headers, routePath + ".headers") : null,
            Redirect = r.Map(route, "redirect", routePath) is { } redirect ? Redirect(redirect, routePath + ".redirect") : null,
            DirectResponse = r.Map(route, "directResponse", routePath) is { } direct ? DirectResponse(direct, routePath + ".directResponse") : null,
            Fault = r.Map(route, "fault", routePath) is { } fault ? Fault(fault, routePath + ".fault") : null,
            Cors = r.Map(route, "corsPolicy", routePath) is { } cors ? Cors(cors, routePath + ".corsPolicy") : null,
            Mirrors = Mirrors(route, routePath, info),
        };

        string[] answers = [.. AnswerFields.Where(k => route[k] is not null)];
        if (answers.Length > 1)
        {
            r.Error(DiagnosticCodes.InvalidValue, route[answers[1]]!, DocumentReader.Child(routePath, answers[1]), $"a route takes one of route, redirect and directResponse, not {string.Join(" and ", answers)}");
        }

        return actions;
    }

    private HttpRewrite? Rewrite(MappingNode node, string path, MappingNode route, string routePath, List<HttpRouteMatch> matches)
    {
        r.CheckFields(node, path, ["uri", "uriRegexRewrite", "authority"], strict: true);
        var uri = r.String(node, "uri", path);
        var authority = r.String(node, "authority", path);
        Regex? regex = null;
        string? replacement = null;
        if (r.Map(node, "uriRegexRewrite", path) is { } regexNode)
        {
            var regexPath = path + ".uriRegexRewrite";
            r.CheckFields(regexNode, regexPath, ["match", "rewrite"], strict: true);
            var pattern = r.String(regexNode, "match", regexPath, required: true);
            replacement = r.String(regexNode, "rewrite", regexPath, required: true);
            if (pattern is not null && Compile(pattern, regexNode["match"]!, regexPath + ".match") is { } compiled)
            {
                regex = compiled;
            }

            if (uri is not null)
            {
                r.Error(DiagnosticCodes.InvalidValue, regexNode, regexPath, "rewrite takes uri or uriRegexRewrite, not both");
            }
        }

        if (uri is not null && matches.FindIndex(static m => m.Uri?.Kind == StringMatchKind.Regex) is var at and >= 0)
        {
            // Envoy cannot replace "the matched prefix" of a regex: Istio asks for uriRegexRewrite there.
            r.Error(DiagnosticCodes.InvalidValue, node["uri"]!, path + ".uri",
                $"cannot rewrite the path of {DocumentReader.Item(routePath + ".match", at)}, a regex match: use rewrite.uriRegexRewrite");
            return null;
        }

        return Core(node, path, () => new HttpRewrite { Uri = uri, UriRegex = regex, UriRegexReplacement = replacement, Authority = authority });
    }

    /// <summary>A <c>uriRegexRewrite.match</c>, under the same limits as every other regex of a file.</summary>
    private Regex? Compile(string pattern, YamlNode at, string path)
    {
        if (pattern.Length > StringMatch.MaxPatternLength)
        {
            r.Error(DiagnosticCodes.InvalidValue, at, path, $"is {pattern.Length} characters long; at most {StringMatch.MaxPatternLength} are allowed");
            return null;
        }

        if (++_regexes > r.Limits.MaxRegexesPerFile)
        {
            r.Error(DiagnosticCodes.Limit, at, path, $"more than {r.Limits.MaxRegexesPerFile} regexes in the file (MeshConfigurationLimits.MaxRegexesPerFile)");
            return null;
        }

        try
        {
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            r.Error(DiagnosticCodes.InvalidValue, at, path, $"'{DocumentReader.Shorten(pattern)}' is not a regular expression this library accepts (RE2 syntax): {e.Message}");
            return null;
        }
    }

    private HttpHeaderRules? HeaderRules(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["request", "response"], strict: true);
        var request = r.Map(node, "request", path) is { } req ? Operations(req, path + ".request") : null;
        var response = r.Map(node, "response", path) is { } res ? Operations(res, path + ".response") : null;
        return request is null && response is null ? null : new HttpHeaderRules { Request = request, Response = response };
    }

    private HeaderOperations? Operations(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["set", "add", "remove"], strict: true);
        var set = r.StringMap(node, "set", path);
        var add = r.StringMap(node, "add", path);
        var remove = r.StringList(node, "remove", path);
        return Core(node, path, () => new HeaderOperations
        {
            Set = [.. set ?? []],
            Add = [.. add ?? []],
            Remove = [.. (remove ?? []).Select(static x => x.Value)],
        });
    }

    private HttpRedirect? Redirect(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["uri", "authority", "scheme", "port", "derivePort", "redirectCode"], strict: true);
        bool? fromRequest = null;
        if (r.String(node, "derivePort", path) is { } derive)
        {
            fromRequest = derive switch
            {
                "FROM_REQUEST_PORT" => true,
                "FROM_PROTOCOL_DEFAULT" => false,
                _ => null,
            };
            if (fromRequest is null)
            {
                r.Error(DiagnosticCodes.InvalidValue, node["derivePort"]!, path + ".derivePort", $"unknown value '{DocumentReader.Shorten(derive)}' (expected FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT)");
            }
        }

        var code = r.Int(node, "redirectCode", path);
        var port = r.Int(node, "port", path, min: 1, max: 65535);
        var uri = r.String(node, "uri", path);
        var authority = r.String(node, "authority", path);
        var scheme = r.String(node, "scheme", path);
        return Core(node, path, () => new HttpRedirect { Uri = uri, Authority = authority, Scheme = scheme, Port = port, PortFromRequest = fromRequest, RedirectCode = code ?? 301 });
    }

    private HttpDirectResponse? DirectResponse(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["status", "body"], strict: true);
        var status = r.Int(node, "status", path, required: true);
        ReadOnlyMemory<byte> body = default;
        if (r.Map(node, "body", path) is { } bodyNode)
        {
            var bodyPath = path + ".body";
            r.CheckFields(bodyNode, bodyPath, ["string", "bytes"], strict: true);
            if (r.String(bodyNode, "string", bodyPath) is { } text)
            {
                body = System.Text.Encoding.UTF8.GetBytes(text);
            }
            else if (r.String(bodyNode, "bytes", bodyPath) is { } base64)
            {
                try
                {
                    body = Convert.FromBase64String(base64);
                }
                catch (FormatException)
                {
                    r.Error(DiagnosticCodes.InvalidValue, bodyNode["bytes"]!, bodyPath + ".bytes", "is not base64");
                }
            }
        }

        return status is null ? null : Core(node, path, () => new HttpDirectResponse(status.Value, body));
    }

    private HttpFault? Fault(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["delay", "abort"], strict: true);
        var delay = TimeSpan.Zero;
        double delayShare = 100, abortShare = 100;
        int? httpStatus = null, grpcStatus = null;
        if (r.Map(node, "delay", path) is { } delayNode)
        {
            var delayPath = path + ".delay";
            r.CheckFields(delayNode, delayPath, ["fixedDelay", "percentage", "percent"], ["exponentialDelay"], strict: true);
            delay = Duration(delayNode, "fixedDelay", delayPath) ?? TimeSpan.Zero;
            if (delayNode["fixedDelay"] is null)
            {
                r.Error(DiagnosticCodes.MissingField, delayNode, delayPath + ".fixedDelay", "required field is missing");
            }

            delayShare = Percentage(delayNode, delayPath) ?? 100;
        }

        if (r.Map(node, "abort", path) is { } abortNode)
        {
            var abortPath = path + ".abort";
            r.CheckFields(abortNode, abortPath, ["httpStatus", "grpcStatus", "percentage"], ["http2Error"], strict: true);
            httpStatus = r.Int(abortNode, "httpStatus", abortPath, min: 200, max: 599);
            if (r.String(abortNode, "grpcStatus", abortPath) is { } name)
            {
                grpcStatus = Array.IndexOf(GrpcStatusNames, name) is var code and >= 0 ? code : null;
                if (grpcStatus is null)
                {
                    r.Error(DiagnosticCodes.InvalidValue, abortNode["grpcStatus"]!, abortPath + ".grpcStatus", $"unknown gRPC status '{DocumentReader.Shorten(name)}' (expected a name such as UNAVAILABLE)");
                }
            }

            if (abortNode["httpStatus"] is null && abortNode["grpcStatus"] is null && abortNode["http2Error"] is null)
            {
                r.Error(DiagnosticCodes.MissingField, abortNode, abortPath, "an abort needs httpStatus or grpcStatus");
            }

            abortShare = Percentage(abortNode, abortPath) ?? 100;
        }

        return Core(node, path, () => new HttpFault { Delay = delay, DelayPercentage = delayShare, AbortStatus = httpStatus, AbortGrpcStatus = grpcStatus, AbortPercentage = abortShare });
    }

    /// <summary>Istio's <c>percentage: {value: 0.0-100.0}</c>, or the older whole-number <c>percent</c>.</summary>
    private double? Percentage(MappingNode node, string path, string key = "percentage")
    {
        if (r.Map(node, key, path) is { } percentage)
        {
            var at = DocumentReader.Child(path, key);
            r.CheckFields(percentage, at, ["value"], strict: true);
            if (r.Field(percentage, "value", at, required: true) is ScalarNode { Quoted: false } scalar &&
                double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                if (value is >= 0 and <= 100)
                {
                    return value;
                }

                r.Error(DiagnosticCodes.InvalidValue, scalar, at + ".value", $"{DocumentReader.Shorten(scalar.Value)} is not a percentage from 0 to 100");
            }
            else if (percentage["value"] is { } wrong)
            {
                r.Error(DiagnosticCodes.WrongType, wrong, at + ".value", "expected a number from 0 to 100");
            }

            return null;
        }

        return node["percent"] is not null ? r.Int(node, "percent", path, min: 0, max: 100) : null;
    }

    private HttpCorsPolicy? Cors(MappingNode node, string path)
    {
        r.CheckFields(node, path, ["allowOrigins", "allowOrigin", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials"], ["unmatchedPreflights"], strict: true);
        var origins = new List<StringMatch>();
        var list = r.List(node, "allowOrigins", path);
        for (var i = 0; i < (list?.Items.Count ?? 0); i++)
        {
            var itemPath = DocumentReader.Item(path + ".allowOrigins", i);
            if (MatchNode(list!.Items[i], itemPath) is { } match)
            {
                origins.Add(match);
            }
        }

        foreach (var (origin, _) in r.StringList(node, "allowOrigin", path) ?? [])
        {
            origins.Add(origin == "*" ? StringMatch.Present : StringMatch.Exact(origin)); // the deprecated list of exact origins
        }

        return new HttpCorsPolicy
        {
            AllowOrigins = [.. origins],
            AllowMethods = [.. (r.StringList(node, "allowMethods", path) ?? []).Select(static x => x.Value)],
            AllowHeaders = [.. (r.StringList(node, "allowHeaders", path) ?? []).Select(static x => x.Value)],
            ExposeHeaders = [.. (r.StringList(node, "exposeHeaders", path) ?? []).Select(static x => x.Value)],
            MaxAge = Duration(node, "maxAge", path, allowZero: true),
            AllowCredentials = r.Bool(node, "allowCredentials", path) ?? false,
        };
    }

    private List<(Destination Destination, double Percentage)> Mirrors(MappingNode route, string routePath, MeshDocument info)
    {
        var result = new List<(Destination, double)>();
        if (r.Map(route, "mirror", routePath) is { } mirror)
        {
            var share = Percentage(route, routePath, "mirrorPercentage") ?? (route["mirrorPercent"] is not null ? r.Int(route, "mirrorPercent", routePath, min: 0, max: 100) : null) ?? 100;
            if (DestinationOf(mirror, routePath + ".mirror", info) is { } destination)
            {
                result.Add((destination, share));
            }
        }

        var list = r.List(route, "mirrors", routePath);
        for (var i = 0; i < (list?.Items.Count ?? 0); i++)
        {
            var itemPath = DocumentReader.Item(routePath + ".mirrors", i);
            if (r.AsMap(list!.Items[i], itemPath) is not { } item)
            {
                continue;
            }

            r.CheckFields(item, itemPath, ["destination", "percentage"], strict: true);
            var share = Percentage(item, itemPath) ?? 100;
            if (r.Map(item, "destination", itemPath, required: true) is { } node && DestinationOf(node, itemPath + ".destination", info) is { } destination)
            {
                result.Add((destination, share));
            }
        }

        if (route["mirror"] is not null && list is not null)
        {
            r.Error(DiagnosticCodes.InvalidValue, list, routePath + ".mirrors", "a route takes mirror or mirrors, not both");
        }

        return result;
    }
}
