namespace DynamicSubset.Routing;

/// <summary>
/// One of Istio's <c>mirrors</c> (or <c>mirror</c> with <c>mirrorPercentage</c>): a share of the route's requests copied,
/// fire and forget, to another pool; its answers are dropped.
/// </summary>
public sealed class HttpMirror
{
    /// <summary>Initializes a new instance of the <see cref="HttpMirror"/> class.</summary>
    /// <param name="destination">Where copies go: its pool resolves them as any request (dynamic subsets apply).</param>
    /// <param name="percentage">The share of requests copied, from 0 to 100.</param>
    public HttpMirror(RouteDestination destination, double percentage = 100)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Destination = destination;
        Percentage = HttpFault.Percentage(percentage, "mirrorPercentage");
    }

    /// <summary>Gets where copies go.</summary>
    public RouteDestination Destination { get; }

    /// <summary>Gets the share of requests copied, from 0 to 100.</summary>
    public double Percentage { get; }

    /// <summary>The Host a copy is sent with, as Envoy names it: <c>-shadow</c> after the host name, before any port.</summary>
    /// <param name="host">The request's Host.</param>
    /// <returns>The copy's Host.</returns>
    public static string ShadowHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var colon = host.LastIndexOf(':');
        return colon > 0 && host.IndexOf(']', StringComparison.Ordinal) < colon ? $"{host[..colon]}-shadow{host[colon..]}" : host + "-shadow";
    }

    /// <summary>Whether this request is copied: a draw against <see cref="Percentage"/>.</summary>
    /// <param name="random">A number from 0 (inclusive) to 1 (exclusive).</param>
    /// <returns><see langword="true"/> to copy it.</returns>
    public bool CopiesThis(double random) => random * 100 < Percentage;
}
