using System.Globalization;
using System.Text;
using System.Text.Json;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Configuration;

namespace DynamicSubset.Routing.Cli;

/// <summary>
/// <c>dynsubset diff</c>: what an edit changes in each service's topology and, with recorded requests, which of them
/// go somewhere else (docs/cli.md). Both sides are built into catalogs as <c>serve</c> builds them, and requests are
/// routed as serving routes them.
/// </summary>
internal static class DiffCommand
{
    public static int Run(CliOutput output, string[] beforeFiles, string[] afterFiles, string? requestsFile, string? host, bool json)
    {
        var before = Load(beforeFiles);
        var after = Load(afterFiles);
        using var beforeCatalog = before.CreateCatalog();
        using var afterCatalog = after.CreateCatalog();
        return Report(output, beforeCatalog.Current, afterCatalog.Current, requestsFile, host, json);
    }

    /// <summary>
    /// The live objects as before, and the same objects with the files applied over them as after; both compiled the
    /// same way, and nothing written anywhere.
    /// </summary>
    public static int RunAgainst(CliOutput output, MeshDocumentSet live, string[] afterFiles, string? requestsFile, string? host, bool json)
    {
        var before = live.Compile();
        if (before.HasErrors)
        {
            throw new CliException("the cluster's objects do not compile as they are: " + string.Join("; ", before.Diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).Select(static d => d.ToString())));
        }

        var after = live.Compile(afterFiles);
        after.ThrowIfInvalid();
        using var beforeCatalog = before.CreateCatalog();
        using var afterCatalog = after.CreateCatalog();
        return Report(output, beforeCatalog.Current, afterCatalog.Current, requestsFile, host, json);
    }

    /// <summary>Compares two snapshots and replays the requests file against them; writes nothing until every line was read.</summary>
    public static int Report(CliOutput output, RoutingCatalogSnapshot before, RoutingCatalogSnapshot after, string? requestsFile, string? host, bool json)
    {
        if (host is not null && !before.TryFindByName(host, out _) && !after.TryFindByName(host, out _))
        {
            throw new CliException($"--host: no service '{host}' on either side (services: {Names(before, after)})");
        }

        var diff = RoutingDiff.Compare(before, after);
        RequestReplay? replay = requestsFile is null ? null : Replay(before, after, requestsFile, host);
        var moved = replay?.Summaries().Sum(static s => s.Moved) ?? 0;
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                diff.WriteJson(writer, replay);
            }

            output.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            WriteText(output, diff, replay);
        }

        return diff.HasChanges || moved > 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }

    private static RequestReplay Replay(RoutingCatalogSnapshot before, RoutingCatalogSnapshot after, string file, string? host)
    {
        var replay = new RequestReplay(before, after);
        var only = EntryNames(before, after) is [var single] ? single : null;
        StreamReader reader;
        try
        {
            reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{file}: cannot read the file: {e.Message}");
        }

        using (reader)
        {
            var number = 0;
            while (reader.ReadLine() is { } line)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                RecordedRequest? request;
                try
                {
                    using var document = JsonDocument.Parse(line);
                    if (!RecordedRequest.TryRead(document.RootElement, out request, out var error))
                    {
                        throw new CliException($"{Where(file, number)}: {error}");
                    }
                }
                catch (JsonException e)
                {
                    throw new CliException($"{Where(file, number)}: invalid JSON: {e.Message}");
                }

                var service = request.Service ?? ServiceOf(request.Request.Authority) ?? host ?? only ?? throw new CliException(
                    $"{Where(file, number)}: the line names no service (\"service\" or \"authority\"), and the files hold several ({Names(before, after)}); name one with --host");
                var at = number;
                replay.Add(service, request.Request, new HeaderDictionarySource(request.Headers), () => Describe(at, request));
            }
        }

        return replay;

        string? ServiceOf(string? authority)
        {
            if (authority is null)
            {
                return null;
            }

            var name = authority.StartsWith('[') ? authority[..(authority.IndexOf(']', StringComparison.Ordinal) + 1)] : authority.Split(':')[0];
            return before.TryFind(name, out var found) || after.TryFind(name, out found) ? found.Name : null;
        }
    }

    private static string Where(string file, int line) => $"{file}:{line.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A request as an example of a move: its line, method, path and headers.</summary>
    private static string Describe(int line, RecordedRequest request)
    {
        var headers = string.Join(", ", request.Headers.Select(static h => $"{h.Key}: {h.Value}"));
        return string.Create(CultureInfo.InvariantCulture, $"line {line}: {request.Request.Method} {request.Request.Path}{(headers.Length == 0 ? "" : " " + headers)}");
    }

    private static void WriteText(CliOutput output, RoutingDiff diff, RequestReplay? replay)
    {
        var summaries = replay?.Summaries().ToDictionary(static s => s.Host, StringComparer.Ordinal) ?? [];
        var any = false;
        foreach (var service in diff.Services)
        {
            summaries.TryGetValue(service.Host, out var requests);
            if (!service.HasChanges && requests is not { Moved: > 0 })
            {
                continue;
            }

            any = true;
            var state = service.InBefore == service.InAfter ? "" : service.InAfter ? " (new)" : " (gone)";
            output.Out.WriteLine(output.Bold(service.Host + state));
            if (requests is not null)
            {
                // The moves first: what happens to traffic is what the edit is judged by.
                output.Out.WriteLine($"  requests  {requests.Total.ToString(CultureInfo.InvariantCulture)}, {(requests.Moved == 0 ? "none" : output.Yellow(requests.Moved.ToString(CultureInfo.InvariantCulture)))} moved");
                if (!requests.Transitions.IsEmpty)
                {
                    Table.Write(output.Out, ["FROM", "TO", "COUNT", "EXAMPLE"], requests.Transitions.Select(t => (IReadOnlyList<string>)[
                        t.From, t.To, t.Count.ToString(CultureInfo.InvariantCulture), t.Examples.FirstOrDefault() ?? "",
                    ]), indent: "    ");
                }
            }

            foreach (var change in service.SubsetsAdded)
            {
                output.Out.WriteLine($"  {output.Green("+ subset")}  {change}: {Endpoints(change.EndpointsAdded)}");
            }

            foreach (var change in service.SubsetsRemoved)
            {
                output.Out.WriteLine($"  {output.Red("- subset")}  {change}: {Endpoints(change.EndpointsRemoved)}");
            }

            foreach (var change in service.SubsetsChanged)
            {
                var parts = change.EndpointsAdded.Select(static e => "+" + e).Concat(change.EndpointsRemoved.Select(static e => "-" + e));
                output.Out.WriteLine($"  ~ subset  {change}: {string.Join(" ", parts)}");
            }

            if (!service.BecomeRoutable.IsEmpty || !service.StopBeingRoutable.IsEmpty)
            {
                var parts = service.BecomeRoutable.Select(static e => "+" + e).Concat(service.StopBeingRoutable.Select(static e => "-" + e));
                output.Out.WriteLine($"  routable  {string.Join(" ", parts)}");
            }

            foreach (var change in service.PolicyChanges)
            {
                output.Out.WriteLine($"  policy    {change}");
            }

            output.Out.WriteLine();
        }

        var total = summaries.Values.Sum(static s => s.Total);
        var moved = summaries.Values.Sum(static s => s.Moved);
        output.Out.WriteLine(!any
            ? $"no change{(replay is null ? "" : $": {total.ToString(CultureInfo.InvariantCulture)} requests, none moved")}"
            : replay is null
                ? $"{diff.Services.Count(static s => s.HasChanges).ToString(CultureInfo.InvariantCulture)} services change"
                : $"{moved.ToString(CultureInfo.InvariantCulture)} of {total.ToString(CultureInfo.InvariantCulture)} requests move");
    }

    private static string Endpoints(System.Collections.Immutable.ImmutableArray<string> endpoints) => endpoints.IsEmpty ? "no endpoint" : string.Join(", ", endpoints);

    private static string Names(RoutingCatalogSnapshot before, RoutingCatalogSnapshot after) =>
        EntryNames(before, after) is { Length: > 0 } names ? string.Join(", ", names) : "none";

    /// <summary>
    /// The services a request can name: not the pools that a route's destination (<c>host via vs.http[route]</c>) or a
    /// DestinationRule's static subset (<c>host/subset</c>) adds.
    /// </summary>
    private static string[] EntryNames(RoutingCatalogSnapshot before, RoutingCatalogSnapshot after) =>
        [.. before.Services.Select(static s => s.Name).Union(after.Services.Select(static s => s.Name), StringComparer.Ordinal).Where(static n => n.IndexOfAny(['/', ' ']) < 0)];

    private static MeshConfiguration Load(string[] files)
    {
        var config = MeshConfiguration.Load(files);
        config.ThrowIfInvalid();
        return config;
    }
}
