using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>Captures the routing headers of each inbound request into a <see cref="RoutingHeaderContext"/>.</summary>
internal sealed class RoutingHeaderPropagationMiddleware(RequestDelegate next, IOptions<RoutingHeaderPropagationOptions> options, IServiceProvider services)
{
    private readonly RoutingHeaderPropagationOptions _options = options.Value;
    private readonly string[] _explicitHeaders = [.. options.Value.Headers];
    private readonly RoutingCatalogRegistry? _catalogs = services.GetService<RoutingCatalogRegistry>();

    public async Task InvokeAsync(HttpContext context)
    {
        IReadOnlyList<string> names = _explicitHeaders.Length > 0 ? _explicitHeaders : _catalogs?.MappedHeaders ?? [];
        var baggage = _options.UseBaggage ? context.Request.Headers["baggage"].ToString() : null;
        var captured = new List<KeyValuePair<string, string>>();
        foreach (var name in names)
        {
            if (context.Request.Headers.TryGetValue(name, out var value) && value.Count > 0)
            {
                captured.Add(new(name, value.ToString()));
            }
            else if (baggage is not null && Baggage.TryGetValue(baggage, name, out var carried))
            {
                captured.Add(new(name, carried));
            }
        }

        using var scope = RoutingHeaderContext.Begin(captured, _options.UseBaggage);
        await next(context).ConfigureAwait(false);
    }
}
