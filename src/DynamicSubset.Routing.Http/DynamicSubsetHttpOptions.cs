using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Http;

/// <summary>What the handler does when no endpoint can take a request.</summary>
public enum NoHealthyUpstreamBehavior
{
    /// <summary>Return HTTP 503 with the plain-text body <c>no healthy upstream</c>, as the mesh proxy does. The default.</summary>
    Respond503 = 0,

    /// <summary>Throw <see cref="NoHealthyUpstreamException"/>.</summary>
    Throw = 1,
}

/// <summary>How the dynamic subset handler of one named HttpClient behaves.</summary>
public sealed class DynamicSubsetHttpOptions
{
    /// <summary>Gets or sets a value indicating whether the Host header keeps the logical service name when the request is sent to an endpoint's IP.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool PreserveHostHeader { get; set; } = true;

    /// <summary>Gets or sets what happens when no endpoint can take a request.</summary>
    /// <value>Defaults to <see cref="NoHealthyUpstreamBehavior.Respond503"/>.</value>
    public NoHealthyUpstreamBehavior NoHealthyUpstream { get; set; } = NoHealthyUpstreamBehavior.Respond503;

    /// <summary>
    /// Gets or sets how many times a request that could not connect is retried on another endpoint of the same
    /// resolved set. Only requests that are safe to resend are retried.
    /// </summary>
    /// <value>Defaults to 2, as Istio's retry attempts.</value>
    [Range(0, 16)]
    public int ConnectRetries { get; set; } = 2;
}

/// <summary>Validates <see cref="DynamicSubsetHttpOptions"/> at start. Source-generated.</summary>
[OptionsValidator]
public sealed partial class DynamicSubsetHttpOptionsValidator : IValidateOptions<DynamicSubsetHttpOptions>;

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
