using System.Diagnostics.Metrics;
using System.Text.Json;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>The meters whose numbers the admin view shows, when they are another app's.</summary>
internal sealed record AdminMeters(IMeterFactory Factory);

/// <summary>
/// The admin view's endpoints under one prefix: the snapshot JSON, the page, the last minute's numbers, the recent
/// decisions and explain. The page is built on the JSON, which stays for scripts (docs/dashboard.md).
/// </summary>
internal static class AdminEndpoints
{
    private const int MaxExplainBody = 64 * 1024;
    private const int MaxWhatIfBody = 1024 * 1024;

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string pattern)
    {
        var services = endpoints.ServiceProvider;
        var meters = services.GetService<AdminMeters>()?.Factory ?? services.GetService<IMeterFactory>();
        var history = new ResolutionHistory(meters, services.GetService<TimeProvider>() ?? TimeProvider.System);
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(history.Dispose);

        var group = endpoints.MapGroup(pattern);
        group.MapGet("", DebugView.WriteAsync);
        group.MapGet("/ui", WritePageAsync);
        group.MapGet("/stats", context => WriteStatsAsync(context, history));
        group.MapGet("/decisions", WriteDecisionsAsync);
        group.MapPost("/explain", SameOriginOnly(ExplainAsync));
        group.MapPost("/whatif", SameOriginOnly(WhatIfAsync));
        return group;
    }

    private static async Task WritePageAsync(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        // Self-contained: no script, style or font from anywhere else.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";
        await using var page = typeof(AdminEndpoints).Assembly.GetManifestResourceStream("DynamicSubset.Routing.AspNetCore.Admin.index.html")
            ?? throw new InvalidOperationException("the admin page is missing from the assembly");
        await page.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteStatsAsync(HttpContext context, ResolutionHistory history)
    {
        await WriteJsonAsync(context, w =>
        {
            w.WriteNumber("seconds", ResolutionHistory.Seconds);
            w.WriteStartArray("series");
            foreach (var (service, outcome, perSecond) in history.Snapshot().OrderBy(static s => s.Service, StringComparer.Ordinal).ThenBy(static s => s.Outcome, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("service", service);
                w.WriteString("outcome", outcome);
                w.WriteNumber("total", perSecond.Sum());
                w.WriteStartArray("perSecond");
                foreach (var count in perSecond)
                {
                    w.WriteNumberValue(count);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static Task WriteDecisionsAsync(HttpContext context)
    {
        var decisions = context.RequestServices.GetService<RoutingPipeline>()?.RecentDecisions() ?? [];
        return WriteJsonAsync(context, w =>
        {
            w.WriteNumber("capacity", RoutingPipeline.RecentDecisionCapacity);
            w.WriteStartArray("decisions");
            foreach (var d in decisions)
            {
                w.WriteStartObject();
                w.WriteNumber("sequence", d.Sequence);
                w.WriteString("at", d.At);
                if (d.Explanation is { } explanation)
                {
                    w.WritePropertyName("explanation");
                    explanation.WriteJson(w);
                }
                else
                {
                    w.WriteString("host", d.Host);
                    w.WriteString("outcome", "no_route");
                    w.WriteString("decision", "the host names no routed service");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    /// <summary>
    /// Explains a request typed into the page, a <see cref="RecordedRequest"/>: <c>{"service": "...", "headers": {...}}</c>,
    /// optionally with the method, path and the other facts a VirtualService's routes match, and <c>"sourceIp"</c> for the
    /// caller (behind a gateway with trusted networks, an unknown caller's routing headers do not count).
    /// </summary>
    private static async Task ExplainAsync(HttpContext context)
    {
        using var document = await ReadJsonAsync(context, MaxExplainBody).ConfigureAwait(false);
        if (document is null)
        {
            return;
        }

        if (!RecordedRequest.TryRead(document.RootElement, out var typed, out var error))
        {
            await ErrorAsync(context, error).ConfigureAwait(false);
            return;
        }

        var name = typed.Service;
        var catalogs = (context.RequestServices.GetService<RoutingCatalogRegistry>() ?? new RoutingCatalogRegistry(context.RequestServices)).All;
        RoutedService? service = null;
        foreach (var catalog in catalogs)
        {
            if (name is not null && catalog.Current.TryFindByName(name, out service))
            {
                break;
            }
        }

        if (service is null)
        {
            var known = string.Join(", ", catalogs.SelectMany(static c => c.Current.Services).Select(static s => s.Name).Distinct());
            await ErrorAsync(context, $"service: '{name}' is not a routed service (services: {(known.Length == 0 ? "none" : known)})").ConfigureAwait(false);
            return;
        }

        // Explained as the gateway routes it: the same routes, subset keys only from a caller it trusts, and its own labels and locality.
        var trust = context.RequestServices.GetService<TrustedRoutingHeaders>() ?? TrustedRoutingHeaders.Everyone;
        var identity = context.RequestServices.GetService<EntryPointIdentity>() ?? EntryPointIdentity.None;
        var explanation = RoutingPipeline.Explain(service, identity.Apply(typed.Request), new HeaderDictionarySource(typed.Headers), trust.For(typed.Headers, typed.Request.SourceIp));
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
        explanation.WriteJson(writer);
    }

    /// <summary>
    /// "What if": <c>{"candidate": "YAML"}</c>, a DestinationRule or VirtualService (or any objects) as they would be
    /// edited. The catalog's source is compiled as it is and with the candidate applied, apart from what serves, and
    /// the recent decisions are replayed against both (<see cref="RoutingDiff"/>, <see cref="RequestReplay"/>): the
    /// same report as <c>dynsubset diff</c>, and nothing is applied.
    /// </summary>
    private static async Task WhatIfAsync(HttpContext context)
    {
        using var document = await ReadJsonAsync(context, MaxWhatIfBody).ConfigureAwait(false);
        if (document is null)
        {
            return;
        }

        var candidate = document.RootElement is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("candidate", out var c) && c.ValueKind == JsonValueKind.String
            ? c.GetString()
            : null;

        if (string.IsNullOrWhiteSpace(candidate))
        {
            await ErrorAsync(context, "candidate: expected the edited objects as YAML or JSON text").ConfigureAwait(false);
            return;
        }

        var catalogs = (context.RequestServices.GetService<RoutingCatalogRegistry>() ?? new RoutingCatalogRegistry(context.RequestServices)).All;
        RoutingCatalogPreview? preview = null;
        var problems = new List<string>();
        foreach (var catalog in catalogs)
        {
            if (catalog.TryPreview(candidate, out preview, out var problem))
            {
                break;
            }

            problems.Add(problem);
        }

        if (preview is null)
        {
            await ErrorAsync(context, problems.Count == 0 ? "no routing catalog is registered" : string.Join("\n", problems)).ConfigureAwait(false);
            return;
        }

        // Replayed: each kept decision's request, with the headers its criteria were read from.
        var replay = new RequestReplay(preview.Before, preview.After);
        foreach (var decision in context.RequestServices.GetService<RoutingPipeline>()?.RecentDecisions() ?? [])
        {
            if (decision.EntryService is not { } service)
            {
                continue;
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var criterion in decision.Explanation?.Criteria ?? [])
            {
                if (criterion.Source == CriterionSource.Header && criterion.Value is { } value)
                {
                    headers[criterion.Mapping.Header] = value;
                }
            }

            replay.Add(service, decision.Request, new DictionaryHeaderSource(headers), () =>
                $"#{decision.Sequence} {decision.Request.Method} {decision.Request.Path} {string.Join(", ", headers.Select(static h => $"{h.Key}: {h.Value}"))}".TrimEnd());
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
        RoutingDiff.Compare(preview.Before, preview.After).WriteJson(writer, replay);
    }

    /// <summary>
    /// Refuses a POST that a page of another site sent from an operator's browser (its <c>Sec-Fetch-Site</c> says
    /// cross-site, or its <c>Origin</c> names another host than the request's): the admin page's own requests are
    /// same-origin, and scripts send neither header.
    /// </summary>
    private static RequestDelegate SameOriginOnly(RequestDelegate next) => context =>
    {
        var request = context.Request;
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        var origin = request.Headers.Origin.ToString();
        var crossSite = site is "cross-site" or "same-site" ||
            (origin.Length > 0 && (!Uri.TryCreate(origin, UriKind.Absolute, out var from) || !string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)));
        if (!crossSite)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return WriteJsonAsync(context, w => w.WriteString("error", "a cross-site request is refused: post from the admin page itself, or from a script"));
    };

    /// <summary>Reads a request's JSON body, or answers a 400 that says why not (too large, not JSON) and returns <see langword="null"/>.</summary>
    private static async Task<JsonDocument?> ReadJsonAsync(HttpContext context, int maxBytes)
    {
        var tooLarge = $"the request is larger than {maxBytes} bytes";
        if (context.Request.ContentLength is { } length && length > maxBytes)
        {
            await ErrorAsync(context, tooLarge).ConfigureAwait(false);
            return null;
        }

        // A chunked body has no length to check first: the server stops reading it at the bound instead.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bound)
        {
            bound.MaxRequestBodySize = maxBytes;
        }

        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            await ErrorAsync(context, $"invalid JSON: {e.Message}").ConfigureAwait(false);
            return null;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ErrorAsync(context, tooLarge).ConfigureAwait(false);
            return null;
        }
    }

    private static async Task ErrorAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await WriteJsonAsync(context, w => w.WriteString("error", message)).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> body)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var w = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        body(w);
        w.WriteEndObject();
    }
}
