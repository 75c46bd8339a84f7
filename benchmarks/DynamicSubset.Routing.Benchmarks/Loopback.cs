using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Benchmarks;

/// <summary>What the in-process gateway benchmarks share: a Kestrel app on a loopback address, and a catalog of one service.</summary>
internal static class Loopback
{
    /// <summary>An app listening on a free port of <paramref name="ip"/>, with no logging.</summary>
    public static WebApplication App(string ip, Action<IServiceCollection>? services = null, HttpProtocols protocols = HttpProtocols.Http1)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(ip), 0, o => o.Protocols = protocols));
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>A catalog of one service, which a one-service gateway routes every request to.</summary>
    public sealed class OneService : RoutingCatalog
    {
        public OneService(RoutedService service)
            : base("benchmark") => Publish([service], service);
    }
}
