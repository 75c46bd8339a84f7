namespace DynamicSubset.Routing.Http;

/// <summary>Thrown by the handler, when so configured, for a request that no endpoint can take.</summary>
public sealed class NoHealthyUpstreamException : HttpRequestException
{
    /// <summary>Initializes a new instance of the <see cref="NoHealthyUpstreamException"/> class.</summary>
    /// <param name="service">The service.</param>
    /// <param name="resolution">The resolution, which says which fallback found nothing.</param>
    public NoHealthyUpstreamException(string service, Resolution resolution)
        : base($"no healthy upstream for {service}: {resolution}", null, System.Net.HttpStatusCode.ServiceUnavailable)
    {
        Service = service;
        Resolution = resolution;
    }

    /// <summary>Gets the service.</summary>
    public string Service { get; }

    /// <summary>Gets the resolution.</summary>
    public Resolution Resolution { get; }
}
