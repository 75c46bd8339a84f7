using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using DynamicSubset.Routing.Cli;
using Grpc.Core;
using Grpc.Net.Client;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary>
/// gRPC through <c>dynsubset serve</c>: a real Grpc.Net.Client on the <c>h2c://</c> and <c>https://</c> listeners,
/// real Grpc.AspNetCore pods behind it, reached over HTTP/2 because their Service port is named <c>grpc</c>.
/// </summary>
[Collection(SharedPods.Name)]
public sealed class GatewayGrpcTests(GrpcPods pods) : IAsyncLifetime
{
    private const string H2c = "http://127.0.50.1:18601";
    private const string Http = "http://127.0.50.1:18600";
    private const string Https = "https://127.0.50.1:18602";

    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _stderr = new();
    private Task<int>? _serve;
    private X509Certificate2 _certificate = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _certificate = TestCertificate.Create("dynsubset-gateway", IPAddress.Parse("127.0.50.1"));
        var (cert, key) = (Path.Combine(pods.Directory, "gateway.crt"), Path.Combine(pods.Directory, "gateway.key"));
        TestCertificate.WritePem(_certificate, cert, key);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var settings = ServeSettings.Default with
        {
            MoreListeners = [new Uri(Http), new Uri(Https)],
            Certificate = new CertificateFiles(cert, key),
        };
        _serve = Serve.RunAsync(
            new CliOutput(new StringWriter(), _stderr, color: false), pods.Files, new Uri("h2c://127.0.50.1:18601"), null, settings, _stop.Token,
            (_, _) => started.TrySetResult());
        await Task.WhenAny(started.Task, _serve).Unwrap().WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.True(started.Task.IsCompleted, _stderr.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_serve is not null)
        {
            await _serve;
        }

        _certificate.Dispose();
    }

    [Fact]
    public async Task Unary_IsRoutedByItsMetadata_AndItsTrailersReachTheClient()
    {
        using var channel = GrpcPods.Channel(H2c);
        var invoker = channel.CreateCallInvoker();
        foreach (var version in new[] { "v1", "v2" })
        {
            using var call = invoker.AsyncUnaryCall(Echo.Who, null, new CallOptions(GrpcPods.Version(version), cancellationToken: Ct), "hello");
            var answer = await call.ResponseAsync;
            var pod = pods[answer.Split('|')[0]];
            Assert.Equal(version, pod.Version);
            Assert.Equal($"{pod.Name}|hello", answer);
            Assert.Equal(pod.Name, call.GetTrailers().GetValue("x-pod"));
            Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        }
    }

    [Fact]
    public async Task EveryStreamingCallType_StaysOnThePodItStartedOn()
    {
        using var channel = GrpcPods.Channel(H2c);
        var invoker = channel.CreateCallInvoker();

        using (var count = invoker.AsyncServerStreamingCall(Echo.Count, null, new CallOptions(GrpcPods.Version("v2"), cancellationToken: Ct), "5"))
        {
            var messages = await count.ResponseStream.ReadAllAsync(Ct).ToListAsync(Ct);
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"echo-v2-a|{i}"), messages);
        }

        using (var join = invoker.AsyncClientStreamingCall(Echo.Join, null, new CallOptions(GrpcPods.Version("v2"), cancellationToken: Ct)))
        {
            foreach (var part in new[] { "a", "b", "c" })
            {
                await join.RequestStream.WriteAsync(part, Ct);
            }

            await join.RequestStream.CompleteAsync();
            Assert.Equal("echo-v2-a|a,b,c", await join.ResponseAsync);
        }

        using var chat = invoker.AsyncDuplexStreamingCall(Echo.Chat, null, new CallOptions(GrpcPods.Version("v1"), cancellationToken: Ct));
        var first = "";
        for (var i = 0; i < 4; i++)
        {
            await chat.RequestStream.WriteAsync($"m{i}", Ct);
            Assert.True(await chat.ResponseStream.MoveNext(Ct));
            var (pod, message) = (chat.ResponseStream.Current.Split('|')[0], chat.ResponseStream.Current.Split('|')[1]);
            first = i == 0 ? pod : first;
            Assert.Equal((first, $"m{i}"), (pod, message)); // every message of the call on the pod it started on
            Assert.Equal("v1", pods[pod].Version);
        }

        await chat.RequestStream.CompleteAsync();
        Assert.False(await chat.ResponseStream.MoveNext(Ct));
    }

    [Fact]
    public async Task ThreeHundredConcurrentCalls_OnOneConnection_AreEachRoutedByTheirOwnMetadata()
    {
        var connections = 0;
        using var channel = GrpcPods.Channel(H2c, configure: s => s.ConnectCallback = async (context, ct) =>
        {
            Interlocked.Increment(ref connections);
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        });
        var invoker = channel.CreateCallInvoker();
        var wrong = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            var version = i % 3 == 0 ? "v2" : "v1";
            var answer = await invoker.AsyncUnaryCall(Echo.Who, null, new CallOptions(GrpcPods.Version(version), cancellationToken: Ct), $"{i}");
            if (pods[answer.Split('|')[0]].Version != version || answer.Split('|')[1] != $"{i}")
            {
                wrong.Add($"call {i} ({version}) answered {answer}");
            }
        }));

        Assert.Empty(wrong);
        Assert.Equal(1, connections);
    }

    [Fact]
    public async Task Unavailable_IsRetriedOnASiblingPod_AndTheClientNeverSeesIt()
    {
        var flaky = pods["echo-v1-b"];
        var before = flaky.Hits;
        using var channel = GrpcPods.Channel(H2c);
        var invoker = channel.CreateCallInvoker();
        for (var i = 0; i < 10; i++)
        {
            // Round robin over the two v1 pods: every other call tries the flaky one first, and is retried on the other.
            Assert.Equal($"echo-v1-a|{i}", await invoker.AsyncUnaryCall(Echo.Flaky, null, new CallOptions(GrpcPods.Version("v1"), cancellationToken: Ct), $"{i}"));
        }

        Assert.True(flaky.Hits > before, "the flaky pod was never tried: the test proves nothing");
    }

    [Fact]
    public async Task TheGatewaysOwnAnswers_AreGrpcStatuses()
    {
        using var channel = GrpcPods.Channel(H2c);
        var invoker = channel.CreateCallInvoker();

        var none = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Echo.Who, null, new CallOptions(GrpcPods.Version("v9"), cancellationToken: Ct), "x"));
        Assert.Equal((StatusCode.Unavailable, "no healthy upstream"), (none.StatusCode, none.Status.Detail));

        var unrouted = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Echo.Elsewhere, null, new CallOptions(cancellationToken: Ct), "x"));
        Assert.Equal((StatusCode.Unimplemented, "no route"), (unrouted.StatusCode, unrouted.Status.Detail));

        // A route's fault abort with a gRPC status: the call fails with it, and no pod is involved.
        var hits = pods.Pods.Sum(static p => p.Hits);
        var aborted = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Echo.Who, null, new CallOptions(new Metadata { { "x-fault", "1" } }, cancellationToken: Ct), "x"));
        Assert.Equal((StatusCode.Unavailable, "fault filter abort"), (aborted.StatusCode, aborted.Status.Detail));
        Assert.Equal(hits, pods.Pods.Sum(static p => p.Hits));

        // A route's own timeout (300 ms here) is Envoy's 504, which it maps to UNAVAILABLE.
        var timedOut = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Echo.Slow, null, new CallOptions(new Metadata { { "x-short", "1" }, { "x-version", "v2" } }, cancellationToken: Ct), "5000"));
        Assert.Equal((StatusCode.Unavailable, "upstream request timeout"), (timedOut.StatusCode, timedOut.Status.Detail));
    }

    [Fact]
    public async Task TheClientsDeadline_BoundsTheCall_AndACancelledCallCancelsTheUpstreamTry()
    {
        using var channel = GrpcPods.Channel(H2c);
        var invoker = channel.CreateCallInvoker();
        var pod = pods["echo-v2-a"];

        var late = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Echo.Slow, null, new CallOptions(GrpcPods.Version("v2"), DateTime.UtcNow.AddMilliseconds(300), cancellationToken: Ct), "20000"));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);

        // The client goes away while the pod works: the gateway cancels its try, and the pod sees it.
        var cancelled = pod.CancelledCalls;
        var hits = pod.Hits;
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var call = invoker.AsyncUnaryCall(Echo.Slow, null, new CallOptions(GrpcPods.Version("v2"), cancellationToken: giveUp.Token), "60000");
        await GrpcPods.Until(() => pod.Hits > hits);
        await giveUp.CancelAsync();
        await Assert.ThrowsAsync<RpcException>(async () => await call);
        await GrpcPods.Until(() => pod.CancelledCalls > cancelled);
    }

    [Theory]
    [InlineData("99999999H")] // the largest grpc-timeout there is: about 11,000 years
    [InlineData("1n")] // the smallest: bound to a millisecond
    [InlineData("soon")] // not a timeout: ignored, as Envoy ignores it
    public async Task ExtremeOrBrokenGrpcTimeouts_AreAnsweredNeverCrash(string timeout)
    {
        // A raw gRPC frame, so that the header is exactly what a hostile client sends.
        byte[] message = [.. "hostile"u8];
        byte[] frame = [0, 0, 0, 0, (byte)message.Length, .. message];
        using var client = new HttpClient(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Post, H2c + "/test.Echo/Who")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Headers.Host = "echo";
        request.Headers.TryAddWithoutValidation("grpc-timeout", timeout);
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Content.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        using var response = await client.SendAsync(request, Ct);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.Single() : response.Headers.GetValues("grpc-status").Single();
        if (timeout == "1n")
        {
            Assert.Contains(status, new[] { "0", "4" }); // a millisecond may or may not be enough: either the answer or the deadline
        }
        else
        {
            Assert.Equal("0", status);
            Assert.EndsWith("|hostile", System.Text.Encoding.UTF8.GetString(body.AsSpan(5)));
        }
    }

    [Fact]
    public async Task GrpcOverHttps_NegotiatesHttp2ByAlpn()
    {
        using var channel = GrpcPods.Channel(Https, configure: s => s.SslOptions = Trusting(_certificate));
        var answer = await channel.CreateCallInvoker().AsyncUnaryCall(Echo.Who, null, new CallOptions(GrpcPods.Version("v2"), cancellationToken: Ct), "tls");
        Assert.Equal("echo-v2-a|tls", answer);
    }

    [Theory]
    [InlineData(Http, "1.1")]
    [InlineData(Https, "1.1")]
    [InlineData(Https, "2.0")]
    public async Task PlainHttp_IsStillServed_AndGoesToAnHttpPortInHttp11(string listener, string version)
    {
        using var handler = new SocketsHttpHandler { SslOptions = Trusting(_certificate) };
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, listener + "/") { Version = Version.Parse(version), VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Host = "web";
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal((HttpStatusCode.OK, Version.Parse(version)), (response.StatusCode, response.Version));
        Assert.EndsWith(" over HTTP/1.1", await response.Content.ReadAsStringAsync(Ct)); // the port is named http-web
    }

    internal static SslClientAuthenticationOptions Trusting(X509Certificate2 certificate) => new()
    {
        RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.Thumbprint,
    };
}
