using System.Net.Http.Headers;
using System.Text;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// The routing headers of the request being served (<c>x-stage: dev</c> chosen at the edge), carried across async
/// calls so that outgoing HttpClient calls made while serving it carry them too.
/// </summary>
/// <remarks>
/// The ASP.NET Core middleware begins one per inbound request; a queue consumer or a background job may begin one
/// itself. Outside any, <see cref="Current"/> is <see langword="null"/> and propagation does nothing.
/// </remarks>
public sealed class RoutingHeaderContext
{
    private static readonly AsyncLocal<RoutingHeaderContext?> s_current = new();

    private RoutingHeaderContext(IReadOnlyList<KeyValuePair<string, string>> headers, bool useBaggage)
    {
        Headers = headers;
        UseBaggage = useBaggage;
    }

    /// <summary>Gets the context of the current async flow, or <see langword="null"/>.</summary>
    public static RoutingHeaderContext? Current => s_current.Value;

    /// <summary>Gets the headers to carry, each once.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>Gets a value indicating whether the headers also travel as W3C <c>baggage</c> entries.</summary>
    public bool UseBaggage { get; }

    /// <summary>Begins a context for the current async flow; dispose the result to restore the previous one.</summary>
    /// <param name="headers">The headers to carry.</param>
    /// <param name="useBaggage">Whether to also write them as W3C <c>baggage</c> entries.</param>
    /// <returns>Restores the previous context when disposed.</returns>
    public static IDisposable Begin(IEnumerable<KeyValuePair<string, string>> headers, bool useBaggage = false)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var previous = s_current.Value;
        s_current.Value = new RoutingHeaderContext([.. headers], useBaggage);
        return new Scope(previous);
    }

    /// <summary>Adds the carried headers to an outgoing request, leaving alone any it already sets.</summary>
    /// <param name="request">The outgoing request's headers.</param>
    public void ApplyTo(HttpRequestHeaders request)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var (name, value) in Headers)
        {
            if (!request.NonValidated.Contains(name))
            {
                request.TryAddWithoutValidation(name, value);
            }
        }

        if (UseBaggage && Headers.Count > 0)
        {
            var existing = request.NonValidated.TryGetValues("baggage", out var values) ? string.Join(",", values) : "";
            var entries = new StringBuilder(existing);
            foreach (var (name, value) in Headers)
            {
                if (!Baggage.Contains(existing, name))
                {
                    entries.Append(entries.Length == 0 ? "" : ",").Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
                }
            }

            request.Remove("baggage");
            request.TryAddWithoutValidation("baggage", entries.ToString());
        }
    }

    private sealed class Scope(RoutingHeaderContext? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
