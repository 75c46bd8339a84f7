using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.Yarp;

/// <summary>What a YARP forwarder error means to the attempt loop; the gateway and the YARP step read errors alike.</summary>
internal static class ForwarderErrors
{
    /// <summary>
    /// A failure before the response, on the backend's side, is worth another endpoint; the client going away, or a
    /// failure once the response has started, ends the request.
    /// </summary>
    public static AttemptResult Classify(HttpContext context, ForwarderError error, Endpoint? endpoint = null) => error switch
    {
        ForwarderError.RequestTimedOut => AttemptResult.Failed(RetryReason.PerTryTimeout, Exception(context), Describe(context, error), endpoint),
        ForwarderError.Request when Exception(context) is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } e
            => AttemptResult.Failed(RetryReason.ConnectFailure, e, Describe(context, error), endpoint),
        ForwarderError.Request => AttemptResult.Failed(RetryReason.Reset, Exception(context), Describe(context, error), endpoint),
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled or
            ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient => AttemptResult.Abandoned(upstreamFault: false, Describe(context, error), endpoint),
        _ => AttemptResult.Abandoned(upstreamFault: true, Describe(context, error), endpoint),
    };

    private static Exception? Exception(HttpContext context) => context.GetForwarderErrorFeature()?.Exception;

    private static string Describe(HttpContext context, ForwarderError error) =>
        Exception(context) is { } e ? $"{error}: {e.GetBaseException().Message}" : error.ToString();
}
