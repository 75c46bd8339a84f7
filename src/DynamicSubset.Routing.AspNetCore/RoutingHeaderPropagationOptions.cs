namespace DynamicSubset.Routing.AspNetCore;

/// <summary>Which inbound headers travel on to downstream calls.</summary>
public sealed class RoutingHeaderPropagationOptions
{
    /// <summary>
    /// Gets the headers to carry. Empty (the default): every header that a routed service's VirtualService maps to a
    /// key (<c>headerToDynamicSubsetKey</c>), as of each request.
    /// </summary>
    public IList<string> Headers { get; } = [];

    /// <summary>Gets or sets a value indicating whether W3C <c>baggage</c> also carries them: read when the header is absent, and written on the way out.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool UseBaggage { get; set; }
}
