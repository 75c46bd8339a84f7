using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Http;

/// <summary>
/// What the handler does when routing itself cannot deliver a request: no VirtualService route matches it, no endpoint
/// can take it, or every try timed out.
/// </summary>
public enum RoutingFailureBehavior
{
    /// <summary>
    /// Answer as the mesh proxy does: HTTP 404 <c>no route</c>, 503 <c>no healthy upstream</c>, or 504 <c>upstream request timeout</c>.
    /// The default.
    /// </summary>
    Respond = 0,

    /// <summary>
    /// Throw: <see cref="NoHealthyUpstreamException"/>, <see cref="NoRouteException"/>, or a <see cref="TaskCanceledException"/>
    /// whose inner exception is a <see cref="TimeoutException"/>.
    /// </summary>
    Throw = 1,
}

/// <summary>How the dynamic subset handler of one named HttpClient behaves.</summary>
public sealed class DynamicSubsetHttpOptions
{
    /// <summary>
    /// Gets or sets the service every request of this client goes to, by any of its names (short names work).
    /// <see langword="null"/> (the default): the service the request's own host names; requests to hosts the catalog
    /// does not route pass through untouched.
    /// </summary>
    public string? Service { get; set; }

    /// <summary>Gets or sets a value indicating whether the Host header keeps the logical service name when the request is sent to an endpoint's IP.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool PreserveHostHeader { get; set; } = true;

    /// <summary>Gets or sets what happens when no endpoint can take a request, or every try timed out.</summary>
    /// <value>Defaults to <see cref="RoutingFailureBehavior.Respond"/>.</value>
    public RoutingFailureBehavior FailureBehavior { get; set; } = RoutingFailureBehavior.Respond;

    /// <summary>
    /// Gets or sets how many times a request is sent again to another endpoint of the same resolved set: after it
    /// could not connect, or, for an idempotent method, after a try timed out. Only a body that can be read again is
    /// sent again, and never to an endpoint already tried. A VirtualService route's <c>retries</c> replace this for the
    /// requests it routes.
    /// </summary>
    /// <value>Defaults to 2, as Istio's retry attempts.</value>
    [Range(0, 16)]
    public int ConnectRetries { get; set; } = 2;

    /// <summary>
    /// Gets or sets how long one try may wait for the response headers; <see cref="Timeout.InfiniteTimeSpan"/> for no
    /// limit. A route's <c>retries.perTryTimeout</c> replaces it.
    /// </summary>
    /// <value>Defaults to 15 seconds, Envoy's route timeout.</value>
    public TimeSpan PerTryTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how long a request may take in all, retries included; <see cref="Timeout.InfiniteTimeSpan"/> for no
    /// limit. A route's <c>timeout</c> replaces it.
    /// </summary>
    /// <value>Defaults to 45 seconds: three tries.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(45);
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

/// <summary>Thrown under <see cref="RoutingFailureBehavior.Throw"/> when the service has VirtualService routes and none matches the request.</summary>
public sealed class NoRouteException : HttpRequestException
{
    /// <summary>Initializes a new instance of the <see cref="NoRouteException"/> class.</summary>
    /// <param name="service">The service whose routes were tried.</param>
    /// <param name="method">The request's method.</param>
    /// <param name="path">The request's path.</param>
    public NoRouteException(string service, string method, string path)
        : base($"no route of {service} matches {method} {path}", null, System.Net.HttpStatusCode.NotFound)
    {
        Service = service;
    }

    /// <summary>Gets the service whose routes were tried.</summary>
    public string Service { get; }
}
