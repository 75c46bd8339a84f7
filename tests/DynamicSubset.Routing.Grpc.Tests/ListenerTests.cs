using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using DynamicSubset.Routing.Cli;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary><c>serve</c>'s listeners: bad input is one line and exit 2; a certificate reloads without dropping connections.</summary>
[Collection(SharedPods.Name)]
public sealed class ListenerTests(GrpcPods pods)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> BadListeners => new()
    {
        { "--listen ftp://127.0.50.3:18620", "'ftp://127.0.50.3:18620': unknown scheme 'ftp' (expected http://, h2c:// or https://)" },
        { "--listen https://127.0.50.3:18620", "an https:// listener needs --cert (PEM with --key, or PKCS#12 alone)" },
        { "--listen http://127.0.50.3:18620 --cert {dir}/gateway-a.crt --key {dir}/gateway-a.key", "--cert and --key go with an https:// listener" },
        { "--listen https://127.0.50.3:18620 --cert {dir}/missing.crt --key {dir}/gateway-a.key", "cannot read the certificate: " },
        { "--listen https://127.0.50.3:18620 --cert {dir}/gateway-a.crt --key {dir}/gateway-b.key", "--key '{dir}/gateway-b.key' does not match --cert '{dir}/gateway-a.crt'" },
        { "--listen https://127.0.50.3:18620 --cert {dir}/gateway-a.crt", "cannot use --cert '{dir}/gateway-a.crt': a PEM certificate needs its key: give --key" },
        { "--listen h2c://127.0.50.3:18620 --key {dir}/gateway-a.key", "--key goes with --cert" },
    };

    [Theory]
    [MemberData(nameof(BadListeners))]
    public async Task BadListenersAndCertificates_AreOneLine_AndExit2(string arguments, string expected)
    {
        WriteCertificates("a", "b");
        var dir = pods.Directory;
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var args = (string[])["serve", .. pods.Files.SelectMany(f => new[] { "-f", f }), .. arguments.Replace("{dir}", dir, StringComparison.Ordinal).Split(' ')];

        var exit = await Cli.Cli.RunAsync(args, new CliOutput(stdout, stderr, color: false), Ct);

        Assert.Equal(2, exit);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains(expected.Replace("{dir}", dir, StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public async Task ACertificateChange_ReachesNewConnections_AndOpenOnesKeepServing()
    {
        var (first, second) = WriteCertificates("reload-1", "reload-2");
        var (cert, key) = (Path.Combine(pods.Directory, "gateway-reload-1.crt"), Path.Combine(pods.Directory, "gateway-reload-1.key"));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new StringWriter();
        var settings = ServeSettings.Default with { Certificate = new CertificateFiles(cert, key) };
        var serve = Serve.RunAsync(new CliOutput(new StringWriter(), stderr, color: false), pods.Files, new Uri("https://127.0.50.4:18630"), null, settings, stop.Token, (_, _) => started.TrySetResult());
        await Task.WhenAny(started.Task, serve).Unwrap().WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // One client keeps its connection open across the change; each handshake it makes is counted.
        var handshakes = 0;
        using var kept = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, c, _, _) => Interlocked.Increment(ref handshakes) > 0 && c!.GetCertHashString() == first.Thumbprint },
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        });
        Assert.EndsWith("over HTTP/1.1", await GetAsync(kept));
        Assert.Equal(first.Thumbprint, await PresentedAsync());

        TestCertificate.WritePem(second, cert, key);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await PresentedAsync() != second.Thumbprint)
        {
            Assert.True(DateTime.UtcNow < deadline, "the new certificate never reached a new connection:\n" + stderr);
        }

        Assert.EndsWith("over HTTP/1.1", await GetAsync(kept)); // the open connection still serves, with no new handshake
        Assert.Equal(1, handshakes);

        // A broken change is logged; the last good certificate keeps serving.
        File.WriteAllText(cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
        await GrpcPods.Until(() => stderr.ToString().Contains("Certificate change not taken", StringComparison.Ordinal));
        Assert.Equal(second.Thumbprint, await PresentedAsync());

        await stop.CancelAsync();
        Assert.Equal(0, await serve);
        first.Dispose();
        second.Dispose();
    }

    private (X509Certificate2 First, X509Certificate2 Second) WriteCertificates(string a, string b)
    {
        var first = TestCertificate.Create($"gateway-{a}", IPAddress.Parse("127.0.50.4"));
        var second = TestCertificate.Create($"gateway-{b}", IPAddress.Parse("127.0.50.4"));
        TestCertificate.WritePem(first, Path.Combine(pods.Directory, $"gateway-{a}.crt"), Path.Combine(pods.Directory, $"gateway-{a}.key"));
        TestCertificate.WritePem(second, Path.Combine(pods.Directory, $"gateway-{b}.crt"), Path.Combine(pods.Directory, $"gateway-{b}.key"));
        return (first, second);
    }

    private static async Task<string> GetAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://127.0.50.4:18630/") { Version = HttpVersion.Version11 };
        request.Headers.Host = "web";
        using var response = await client.SendAsync(request, Ct);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    /// <summary>The thumbprint a new connection is shown.</summary>
    private static async Task<string?> PresentedAsync()
    {
        string? presented = null;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, c, _, _) => (presented = c?.GetCertHashString()) is not null },
        });
        await GetAsync(client);
        return presented;
    }
}
