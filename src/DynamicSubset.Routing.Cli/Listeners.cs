using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace DynamicSubset.Routing.Cli;

/// <summary>
/// The gateway's listener schemes: <c>http://</c> HTTP/1.1; <c>h2c://</c> HTTP/2 over cleartext with prior knowledge
/// (gRPC clients without TLS); <c>https://</c> TLS with HTTP/2 and HTTP/1.1 offered by ALPN.
/// </summary>
internal static class Listeners
{
    /// <summary>The scheme of an HTTP/2 cleartext listener.</summary>
    public const string H2c = "h2c";

    /// <summary>The schemes <c>--listen</c> takes.</summary>
    public static readonly string[] Schemes = [Uri.UriSchemeHttp, H2c, Uri.UriSchemeHttps];

    /// <summary>Sets a listener's protocols, and its certificate for <c>https://</c> (read per handshake, so a reload reaches new connections).</summary>
    public static void Configure(ListenOptions listen, Uri url, CertificateStore? certificates)
    {
        switch (url.Scheme)
        {
            case H2c:
                listen.Protocols = HttpProtocols.Http2;
                break;
            case "https":
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, _) => certificates!.Current,
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                });
                break;
            default:
                listen.Protocols = HttpProtocols.Http1;
                break;
        }
    }
}
