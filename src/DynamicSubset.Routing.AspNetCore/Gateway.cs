using System.Diagnostics.CodeAnalysis;
using System.Net;
using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// Forwards requests to the endpoint that dynamic subset routing chooses, with YARP's <see cref="IHttpForwarder"/>.
/// The service is the one the Host header names (without its port; short names work); with one service loaded,
/// every request goes to it.
/// </summary>
internal sealed partial class DynamicSubsetGateway(MeshConfigurationWatcher watcher, IHttpForwarder forwarder, ILogger<DynamicSubsetGateway> logger) : IDisposable
{
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = new ReverseProxyPropagator(System.Diagnostics.DistributedContextPropagator.Current),
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    public MeshConfigurationWatcher Watcher => watcher;

    public async Task ForwardAsync(HttpContext context)
    {
        if (!TryFindService(context.Request.Host.Host, out var service, out var resolver))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync($"no service for host '{context.Request.Host.Host}'", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var resolution = resolver.Resolve(new HeaderDictionarySource(context.Request.Headers));
        if (resolution.Endpoint is not { } endpoint)
        {
            Log.NoHealthyUpstream(logger, service.Host, resolution.ToString());
            await WriteNoHealthyUpstreamAsync(context).ConfigureAwait(false);
            return;
        }

        using var inFlight = resolution.TrackRequest();
        var error = await forwarder.SendAsync(context, $"http://{endpoint.Authority}", _invoker, ForwarderRequestConfig.Empty, OriginalHostTransformer.Instance).ConfigureAwait(false);
        if (error != ForwarderError.None)
        {
            Log.ForwardFailed(logger, service.Host, endpoint.Authority, error.ToString());
        }
    }

    public void Dispose() => _invoker.Dispose();

    internal static Task WriteNoHealthyUpstreamAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync("no healthy upstream", context.RequestAborted);
    }

    private bool TryFindService(string host, [NotNullWhen(true)] out MeshService? service, [NotNullWhen(true)] out SubsetResolver? resolver)
    {
        if (watcher.TryGetService(host, out service, out resolver))
        {
            return true;
        }

        var services = watcher.Current.Services;
        return services.Length == 1 && watcher.TryGetService(services[0].Host, out service, out resolver);
    }

    /// <summary>Keeps the client's Host header, as the mesh does, instead of the endpoint's address.</summary>
    private sealed class OriginalHostTransformer : HttpTransformer
    {
        public static readonly OriginalHostTransformer Instance = new();

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.Headers.Host = httpContext.Request.Host.Value;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 30, EventName = "GatewayNoHealthyUpstream", Level = LogLevel.Warning, Message = "No healthy upstream for {Service}: {Resolution}.")]
        public static partial void NoHealthyUpstream(ILogger logger, string service, string resolution);

        [LoggerMessage(EventId = 31, EventName = "GatewayForwardFailed", Level = LogLevel.Warning, Message = "Forwarding to {Endpoint} of {Service} failed: {Error}.")]
        public static partial void ForwardFailed(ILogger logger, string service, string endpoint, string error);
    }
}
