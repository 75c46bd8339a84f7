using System.Globalization;
using System.Text;
using System.Text.Json;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DynamicSubset.Routing.Cli;

/// <summary>The <c>subsets</c>, <c>resolve</c> and <c>validate</c> commands.</summary>
internal static class Commands
{
    public static int Validate(CliOutput output, string[] files)
    {
        var config = MeshConfiguration.Load(files);
        foreach (var d in config.Diagnostics)
        {
            output.Out.WriteLine(Describe(d, output));
        }

        var errors = config.Diagnostics.Count(static d => d.Severity == DiagnosticSeverity.Error);
        var warnings = config.Diagnostics.Count(static d => d.Severity == DiagnosticSeverity.Warning);
        var notes = config.Diagnostics.Length - errors - warnings;
        var services = 0;
        if (errors == 0)
        {
            // Valid means it serves: the files are read through a catalog, as serve and the handler read them.
            try
            {
                using var catalog = config.CreateCatalog();
                services = catalog.Current.Services.Length;
            }
            catch (RoutingValidationException e)
            {
                output.Out.WriteLine($"error: {e.Message}");
                errors++;
            }
        }

        output.Out.WriteLine(errors == 0
            ? output.Green($"valid: {services} service(s); {warnings} warning(s), {notes} note(s)")
            : output.Red($"invalid: {errors} error(s), {warnings} warning(s), {notes} note(s)"));
        return errors == 0 ? ExitCodes.Ok : ExitCodes.InvalidInput;
    }

    public static string Describe(ConfigurationDiagnostic d, CliOutput output)
    {
        var severity = d.Severity switch
        {
            DiagnosticSeverity.Error => output.Red("error"),
            DiagnosticSeverity.Warning => output.Yellow("warning"),
            _ => output.Dim("note"),
        };
        var path = d.Path.Length == 0 ? "" : $"{d.Path}: ";
        return $"{d.File}:{d.Line}:{d.Column}: {severity} {d.Code}: {path}{d.Message}";
    }

    public static int Subsets(CliOutput output, string[] files, string? host, bool json)
    {
        var config = Load(files);
        using var catalog = config.CreateCatalog();
        var services = host is null ? [.. catalog.Current.Services] : new List<RoutedService> { RoutedByName(catalog, config, host) };
        return Subsets(output, [.. services.DistinctBy(static s => s.Resolver).Select(static s => (s.Name, s.Resolver.Current))], json);
    }

    /// <summary>Prints services' subsets, whatever their source: files, or the cluster.</summary>
    public static int Subsets(CliOutput output, IReadOnlyList<(string Name, SubsetIndex Index)> services, bool json)
    {
        if (json)
        {
            WriteSubsetsJson(output.Out, services);
            return ExitCodes.Ok;
        }

        if (services.Count == 0)
        {
            output.Out.WriteLine("No routed service: a DestinationRule, or a VirtualService with a route, is needed.");
        }

        foreach (var (name, index) in services)
        {
            var ds = index.Policy.DynamicSubset;
            output.Out.WriteLine(output.Bold(name));
            var balancer = index.Policy.ConsistentHash is { } hash ? $"consistentHash {hash}" : index.Policy.LoadBalancing.ToMeshName();
            if (ds.SubsetSelectors.IsEmpty)
            {
                // A host without dynamicSubset (or a static subset whose policy has none): every routable endpoint.
                output.Out.WriteLine($"  no dynamicSubset: every routable endpoint   load balancer: {balancer}");
                output.Out.WriteLine($"  endpoints: {(index.Endpoints.IsEmpty ? "none" : Endpoints(index.Endpoints, output))}");
                output.Out.WriteLine();
                continue;
            }

            output.Out.WriteLine($"  selectors: {string.Join("; ", ds.SubsetSelectors.Select(s => s.FallbackPolicy is { } p ? $"{s} ({p.ToMeshName()})" : s.ToString()))}" +
                $"   fallback: {ds.FallbackPolicy.ToMeshName()}   load balancer: {balancer}");
            output.Out.WriteLine();
            Table.Write(output.Out, ["SUBSET", "ENDPOINTS"], index.Subsets.Select(s => (IReadOnlyList<string>)[s.ToString(), Endpoints(s.Endpoints, output)]));
            output.Out.WriteLine();
            output.Out.WriteLine(index.DefaultSubset is { } d
                ? $"  default subset ({d}): {(d.Endpoints.IsEmpty ? "no endpoint" : Endpoints(d.Endpoints, output))}"
                : "  default subset: none");
            output.Out.WriteLine($"  in no subset: {(index.UnassignedEndpoints.IsEmpty ? "none" : Endpoints(index.UnassignedEndpoints, output))}");
            output.Out.WriteLine();
        }

        return ExitCodes.Ok;
    }

    public static int Resolve(CliOutput output, string[] files, string[] headerArgs, int count, string? requestsFile, string? host, bool json, string method = "GET", string path = "/")
    {
        if (count < 1)
        {
            throw new CliException("--count must be 1 or more");
        }

        var config = Load(files);
        using var catalog = config.CreateCatalog();
        RoutedService Default() => host is not null ? RoutedByName(catalog, config, host) : Entries(config) switch
        {
            [var only] => catalog.Current.Services.First(s => s.Name == only.Host),
            [] => throw new CliException("no routed service in the files: a DestinationRule, or a VirtualService with a route, is needed"),
            var several => throw new CliException($"the files hold several services ({string.Join(", ", several.Select(static s => s.Host))}); pick one with --host, or name it in each request's \"service\""),
        };

        if (path.Length == 0 || path[0] != '/')
        {
            throw new CliException($"--path: '{path}' is not a path: it must start with '/' (the query may follow, as /items?id=3)");
        }

        // A request line may name its service; the others go to --host, or to the files' only service. Every line is
        // checked before anything is written, so that invalid input leaves no partial output.
        var fallback = new Lazy<RoutedService>(Default);
        List<(RoutedService Service, IHeaderDictionary Headers, RouteRequest Facts)> requests = requestsFile is null
            ? [(fallback.Value, ParseHeaders(headerArgs), new RouteRequest(method, path))]
            : [.. ReadRequests(requestsFile).Select(r => (r.Request.Service is { } name ? Named(name, r.Where) : fallback.Value, r.Request.Headers, r.Request.Request))];
        RoutedService Named(string name, string where)
        {
            try
            {
                return RoutedByName(catalog, config, name);
            }
            catch (CliException e)
            {
                throw new CliException($"{where}: service: {e.Message}");
            }
        }

        foreach (var request in requests)
        {
            for (var i = 0; i < count; i++)
            {
                var service = request.Service;
                var decision = service.Route(request.Facts, new HeaderDictionarySource(request.Headers));
                if (json)
                {
                    output.Out.WriteLine(DecisionJson(decision));
                }
                else if (i == 0)
                {
                    Explain(output, service, (request.Headers, request.Facts), decision, count);
                }
                else
                {
                    output.Out.WriteLine($"  #{i + 1,-3} {(decision.IsNoRoute ? "no route" : Pick(decision.Resolution))}");
                }
            }

            if (!json && requestsFile is not null)
            {
                output.Out.WriteLine();
            }
        }

        return ExitCodes.Ok;
    }

    /// <summary>One line of the batch contract's output.</summary>
    internal static string DecisionJson(RouteDecision decision)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            decision.WriteJson(w);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Explain(CliOutput output, RoutedService service, (IHeaderDictionary Headers, RouteRequest Facts) request, RouteDecision decision, int count)
    {
        // The explanation the admin page shows, of this decision; only the colours are the terminal's.
        var headers = new HeaderDictionarySource(request.Headers);
        var explanation = Explanation.Of(service, request.Facts, headers, headers, decision);
        if (explanation.EntryService is not null)
        {
            output.Out.WriteLine($"request   {request.Facts.Method} {request.Facts.Path}");
            output.Out.WriteLine($"routes    of {service.Name}");
            Table.Write(output.Out, ["ROUTE", "MATCHED", "WHY"], explanation.Routes.Select(c => (IReadOnlyList<string>)[
                c.Label, c.Matched ? output.Green("yes") : output.Dim("no"), c.Reason,
            ]));
            if (explanation.Destination is not { } destination)
            {
                output.Out.WriteLine(decision.Route is { } answering
                    ? $"route     {explanation.Route}\ndecision  {output.Yellow(answering.Redirect is { } redirect
                        ? $"answered by the route: redirect {redirect.RedirectCode} to {redirect.Location(request.Facts.Scheme, request.Facts.Authority ?? service.Name, request.Facts.Path)}"
                        : $"answered by the route: direct response {answering.DirectResponse!.Status}")}"
                    : $"decision  {output.Red("no route: 404")}");
                return;
            }

            var weights = decision.Route is { Destinations.Length: > 1 } route
                ? $" (weight {destination.Weight} of {route.Destinations.Sum(static d => d.Weight)})"
                : "";
            output.Out.WriteLine($"route     {explanation.Route} -> {destination}{weights}");
        }

        var pool = decision.Service;
        var resolution = explanation.Resolution;
        output.Out.WriteLine($"service   {explanation.Service}");
        if (pool.Resolver.Current.Policy.ConsistentHash is { } hash)
        {
            output.Out.WriteLine($"hashing   {hash}");
        }

        if (explanation.Criteria.IsEmpty)
        {
            output.Out.WriteLine(pool.Resolver.Current.Policy.DynamicSubset.SubsetSelectors.IsEmpty
                ? "criteria  none: no dynamicSubset"
                : "criteria  none: the VirtualService maps no header");
        }
        else
        {
            output.Out.WriteLine("criteria");
            Table.Write(output.Out, ["HEADER", "KEY", "VALUE", "FROM"], explanation.Criteria.Select(c => (IReadOnlyList<string>)[
                c.Mapping.Header, c.Mapping.Key, c.Value ?? "-", c.Source == CriterionSource.Default ? output.Dim(Explanation.DescribeSource(c)) : Explanation.DescribeSource(c),
            ]));
        }

        var why = resolution.Outcome switch
        {
            ResolutionOutcome.Matched => output.Green(explanation.Decision),
            ResolutionOutcome.Fallback => output.Yellow(explanation.Decision),
            _ => output.Red(explanation.Decision),
        };
        output.Out.WriteLine($"decision  {why}");
        if (resolution.HasEndpoint)
        {
            output.Out.WriteLine(count > 1 ? $"  #1   {Pick(resolution)}" : $"endpoint  {Pick(resolution)}");
        }

        if (decision.SetCookie is { } cookie)
        {
            output.Out.WriteLine($"cookie    Set-Cookie: {cookie}");
        }
    }

    /// <summary>The services a request can name: those with routes, and each host's own pool (not a subset's).</summary>
    private static List<MeshService> Entries(MeshConfiguration config) =>
        [.. config.Services.Where(static s => s.HasRoutes || (s.Subset is null && s.Host == s.DestinationHost && !s.Host.Contains(' ', StringComparison.Ordinal)))
            .Where(s => !config.Services.Any(e => e.HasRoutes && e.Hosts.Contains(s.Host) && e != s))];

    private static RoutedService RoutedByName(InMemoryRoutingCatalog catalog, MeshConfiguration config, string host) =>
        catalog.Current.TryFindByName(host, out var service) ? service : throw new CliException(
            $"no service '{host}' in the files (services: {(config.Services.IsEmpty ? "none" : string.Join(", ", Entries(config).Select(static s => s.Host)))})");

    private static string Pick(Resolution r) => r.Endpoint is { } e ? (e.Name is null ? e.Authority : $"{e.Authority}  {e.Name}") : "no healthy upstream";

    private static string Endpoints(IEnumerable<Endpoint> endpoints, CliOutput output) =>
        string.Join(", ", endpoints.Select(e =>
        {
            var text = e.Name is null ? e.Authority : $"{e.Name} {e.Authority}";
            return e.IsHealthy ? text : output.Red(text + " (not routable)");
        }));

    private static MeshConfiguration Load(string[] files)
    {
        var config = MeshConfiguration.Load(files);
        config.ThrowIfInvalid();
        return config;
    }

    private static HeaderDictionary ParseHeaders(string[] headers)
    {
        var result = new HeaderDictionary();
        foreach (var header in headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new CliException($"-H '{header}': expected 'name: value'");
            }

            var name = header[..colon].Trim();
            result[name] = StringValues.Concat(result[name], header[(colon + 1)..].Trim());
        }

        return result;
    }

    private static List<(RecordedRequest Request, string Where)> ReadRequests(string file)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{file}: cannot read the file: {e.Message}");
        }

        var result = new List<(RecordedRequest, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            var where = $"{file}:{(i + 1).ToString(CultureInfo.InvariantCulture)}";
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                if (!RecordedRequest.TryRead(doc.RootElement, out var request, out var error))
                {
                    throw new CliException($"{where}: {error}");
                }

                result.Add((request, where));
            }
            catch (JsonException e)
            {
                throw new CliException($"{where}: invalid JSON: {e.Message}");
            }
        }

        return result;
    }

    private static void WriteSubsetsJson(TextWriter writer, IReadOnlyList<(string Name, SubsetIndex Index)> services)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("services");
            foreach (var (name, index) in services)
            {
                index.WriteJson(w, name);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
