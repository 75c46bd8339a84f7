using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>
/// The rest of Istio's HTTP route fields through the gateway: rewrite, headers, redirect, direct responses, faults,
/// mirroring and CORS. A real Kestrel gateway on 127.0.29.1, a backend that echoes what it received on 127.0.29.11 and a
/// shadow that records its copies on 127.0.29.12.
/// </summary>
public sealed class RouteActionTests : IAsyncLifetime
{
    private const string Mesh = """
        apiVersion: v1
        kind: Service
        metadata: {name: app, namespace: default}
        spec: {selector: {app: app}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: shadow, namespace: default}
        spec: {selector: {app: shadow}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: app-1, namespace: default, labels: {app: app, version: v1}}
        status: {podIP: 127.0.29.11, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: shadow-1, namespace: default, labels: {app: shadow, version: v1}}
        status: {podIP: 127.0.29.12, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: app, namespace: default}
        spec: {host: app.default.svc.cluster.local}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: retrylimited, namespace: default}
        spec: {selector: {app: app}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: retrylimited, namespace: default}
        spec:
          host: retrylimited.default.svc.cluster.local
          trafficPolicy: {connectionPool: {http: {maxRetries: 0}}}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: retrylimited, namespace: default}
        spec:
          hosts: [retrylimited]
          http: [{retries: {attempts: 2, retryOn: 5xx}, route: [{destination: {host: retrylimited}}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: retryfree, namespace: default}
        spec: {selector: {app: app}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: retryfree, namespace: default}
        spec: {host: retryfree.default.svc.cluster.local}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: retryfree, namespace: default}
        spec:
          hosts: [retryfree]
          http: [{retries: {attempts: 2, retryOn: 5xx}, route: [{destination: {host: retryfree}}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: limited, namespace: default}
        spec: {selector: {app: app}, ports: [{name: http, port: 80, targetPort: 5678}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: limited, namespace: default}
        spec:
          host: limited.default.svc.cluster.local
          trafficPolicy:
            connectionPool:
              tcp: {maxConnections: 2}
              http: {http1MaxPendingRequests: 1}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: shadow, namespace: default}
        spec:
          host: shadow.default.svc.cluster.local
          trafficPolicy:
            loadBalancer:
              dynamicSubset:
                subsetSelectors: [{keys: [version], fallbackPolicy: NO_FALLBACK}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: shadow, namespace: default}
        spec:
          hosts: [shadow]
          http:
            - headerToDynamicSubsetKey: [{header: x-version, key: version, defaultValue: v1}]
              route: [{destination: {host: shadow}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: app, namespace: default}
        spec:
          hosts: [app]
          http:
            - name: rewrite
              match: [{uri: {prefix: /api/v1/}}]
              rewrite: {uri: /v1/, authority: internal.example}
              headers:
                request: {set: {x-set: route}, add: {x-add: route}, remove: [x-drop]}
                response: {set: {x-resp: route}, add: {x-resp-add: route}, remove: [x-remove-me]}
              route:
                - destination: {host: app}
                  headers: {request: {set: {x-dest: destination, x-set: destination}}}
            - name: exact
              match: [{uri: {exact: /old}}]
              rewrite: {uri: /new}
              route: [{destination: {host: app}}]
            - name: regex
              match: [{uri: {regex: "/items/[0-9]+"}}]
              rewrite: {uriRegexRewrite: {match: "^/items/([0-9]+)$", rewrite: '/things/\1'}}
              route: [{destination: {host: app}}]
            - name: redirect
              match: [{uri: {prefix: /moved}}]
              redirect: {uri: /new-place, authority: example.com, redirectCode: 302}
            - name: direct
              match: [{uri: {prefix: /direct}}]
              directResponse: {status: 418, body: {string: short and stout}}
            - name: abort
              match: [{uri: {prefix: /abort}}]
              fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
              route: [{destination: {host: app}}]
            - name: half
              match: [{uri: {prefix: /half}}]
              fault: {abort: {httpStatus: 500, percentage: {value: 50}}}
              route: [{destination: {host: app}}]
            - name: delay
              match: [{uri: {prefix: /delay}}]
              fault: {delay: {fixedDelay: 1s, percentage: {value: 100}}}
              route: [{destination: {host: app}}]
            - name: mirror
              match: [{uri: {prefix: /mirror}}]
              mirror: {host: shadow}
              mirrorPercentage: {value: 100}
              route: [{destination: {host: app}}]
            - name: cors
              match: [{uri: {prefix: /cors}}]
              corsPolicy:
                allowOrigins: [{exact: "https://good.example"}, {regex: "https://[a-z]+\\.trusted\\.example"}]
                allowMethods: [GET, POST]
                allowHeaders: [x-custom]
                exposeHeaders: [x-backend]
                maxAge: 1h
                allowCredentials: true
              route: [{destination: {host: app}}]
            - name: edge-only
              match: [{uri: {prefix: /source}, sourceLabels: {role: edge}}]
              directResponse: {status: 200, body: {string: from the edge}}
            - name: plain
              route: [{destination: {host: app}}]
        """;

    private readonly ConcurrentQueue<string> _shadowHosts = new();
    private WebApplication _backend = null!;
    private WebApplication _shadow = null!;
    private GatewayHarness _gateway = null!;
    private string _dir = null!;
    private volatile int _shadowMode; // 0 answers, 1 fails, 2 hangs until released
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _shadowReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly TaskCompletionSource _releaseHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _holding;
    private int _failures;
    private int _mostHeld;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }

    public async ValueTask InitializeAsync()
    {
        _backend = Start("127.0.29.11");
        _backend.Map("/count-fail", () =>
        {
            Interlocked.Increment(ref _failures);
            return Results.Text("failing", statusCode: 503);
        });
        _backend.Map("/hold", async (HttpContext context) =>
        {
            var now = Interlocked.Increment(ref _holding);
            InterlockedMax(ref _mostHeld, now);
            try
            {
                await _releaseHeld.Task.WaitAsync(context.RequestAborted);
                return Results.Text("held");
            }
            finally
            {
                Interlocked.Decrement(ref _holding);
            }
        });
        _backend.Map("/{**rest}", (HttpContext context) =>
        {
            context.Response.Headers["x-backend"] = "app";
            context.Response.Headers["x-remove-me"] = "1";
            return Results.Json(new
            {
                target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget,
                host = context.Request.Host.Value,
                headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            });
        });
        await _backend.StartAsync(Ct);

        _shadow = Start("127.0.29.12");
        _shadow.Map("/{**rest}", async (HttpContext context) =>
        {
            _shadowHosts.Enqueue(context.Request.Host.Value!);
            _shadowReceived.TrySetResult();
            switch (_shadowMode)
            {
                case 1:
                    return Results.StatusCode(500);
                case 2:
                    await _release.Task.WaitAsync(context.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
                    return Results.Text("late");
                default:
                    return Results.Text("shadow");
            }
        });
        await _shadow.StartAsync(Ct);

        _dir = Directory.CreateTempSubdirectory("dsr-actions-").FullName;
        File.WriteAllText(Path.Combine(_dir, "mesh.yaml"), Mesh);
        try
        {
            _gateway = await GatewayHarness.StartAsync("127.0.29.1", [Path.Combine(_dir, "mesh.yaml")]);
        }
        catch
        {
            await DisposeAsync(); // the next test binds the same addresses
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _backend.DisposeAsync();
        await _shadow.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void TheConfiguration_HasNoIgnoredField() => TestApps.AssertNoIgnoredField(Mesh);

    [Fact]
    public async Task Rewrite_ReplacesTheMatchedPrefix_KeepsTheQuery_AndSetsTheAuthority()
    {
        var seen = await EchoAsync("/api/v1/items?x=1", ("x-drop", "gone"), ("x-add", "client"), ("x-set", "client"));

        Assert.Equal("/v1/items?x=1", seen.GetProperty("target").GetString());
        Assert.Equal("internal.example", seen.GetProperty("host").GetString());
        var headers = seen.GetProperty("headers");
        Assert.False(headers.TryGetProperty("x-drop", out _));
        Assert.Equal("route", headers.GetProperty("x-set").GetString()); // the route's set after the destination's
        Assert.Equal("destination", headers.GetProperty("x-dest").GetString());
        Assert.Equal("client, route", headers.GetProperty("x-add").GetString()); // appended to what the client sent

        Assert.Equal("/new", (await EchoAsync("/old")).GetProperty("target").GetString()); // an exact match: the whole path
        Assert.Equal("/things/42", (await EchoAsync("/items/42")).GetProperty("target").GetString());
    }

    [Fact]
    public async Task ResponseHeaders_AreSetAddedAndRemoved()
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/v1/x");
        Assert.Equal("route", Header(response, "x-resp"));
        Assert.Equal("route", Header(response, "x-resp-add"));
        Assert.Null(Header(response, "x-remove-me"));
        Assert.Equal("app", Header(response, "x-backend"));

        using var plain = await SendAsync(HttpMethod.Get, "/anything");
        Assert.Equal("1", Header(plain, "x-remove-me")); // another route: untouched
    }

    [Fact]
    public async Task RedirectAndDirectResponse_AreAnsweredByTheGateway()
    {
        using var noFollow = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = _gateway.Address };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/moved/here?q=1");
        request.Headers.Host = "app";
        using var redirect = await noFollow.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("http://example.com/new-place?q=1", redirect.Headers.Location!.ToString());

        using var direct = await SendAsync(HttpMethod.Get, "/direct");
        Assert.Equal((HttpStatusCode)418, direct.StatusCode);
        Assert.Equal("short and stout", await direct.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task FaultAbort_IsEnvoysAnswer_AndItsPercentageHolds_Over10000Requests()
    {
        using (var aborted = await SendAsync(HttpMethod.Get, "/abort"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, aborted.StatusCode);
            Assert.Equal("fault filter abort", await aborted.Content.ReadAsStringAsync(Ct));
        }

        var failed = 0;
        var total = 10_000;
        await Parallel.ForAsync(0, total, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (_, ct) =>
        {
            using var response = await SendAsync(HttpMethod.Get, "/half");
            if (response.StatusCode == HttpStatusCode.InternalServerError)
            {
                Interlocked.Increment(ref failed);
            }
        });

        // 50% of 10,000: the standard deviation is 50, so 4,700 to 5,300 is six of them either way.
        Assert.InRange(failed, 4_700, 5_300);
    }

    [Fact]
    public async Task FaultDelay_HoldsTheRequestBeforeItIsSent()
    {
        var started = TimeProvider.System.GetTimestamp();
        using var response = await SendAsync(HttpMethod.Get, "/delay");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(950), "the request was not held for the fixed delay");
    }

    [Fact]
    public async Task Mirror_SendsACopyWithTheShadowHost_AndAFailingOrHangingShadowNeverTouchesTheRequest()
    {
        using (var response = await SendAsync(HttpMethod.Get, "/mirror/a"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await _shadowReceived.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        Assert.Contains("app-shadow", _shadowHosts);

        _shadowMode = 1;
        using (var response = await SendAsync(HttpMethod.Get, "/mirror/b"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A hanging shadow: the request itself is answered while its copy is still held by the shadow.
        _shadowMode = 2;
        _shadowReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var response = await SendAsync(HttpMethod.Post, "/mirror/c", content: "payload"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(_release.Task.IsCompleted);
        }

        await _shadowReceived.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        _release.TrySetResult();
    }

    [Fact]
    public async Task Cors_AnAllowedPreflightIsAnswered_AllowedRequestsGetTheHeaders_OtherOriginsPassThrough()
    {
        using (var preflight = await SendAsync(HttpMethod.Options, "/cors", ("Origin", "https://good.example"), ("Access-Control-Request-Method", "POST")))
        {
            Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
            Assert.Equal("https://good.example", Header(preflight, "Access-Control-Allow-Origin"));
            Assert.Equal("GET,POST", Header(preflight, "Access-Control-Allow-Methods"));
            Assert.Equal("x-custom", Header(preflight, "Access-Control-Allow-Headers"));
            Assert.Equal("3600", Header(preflight, "Access-Control-Max-Age"));
            Assert.Equal("true", Header(preflight, "Access-Control-Allow-Credentials"));
            Assert.Null(Header(preflight, "x-backend")); // answered here, not by the backend
        }

        using (var regex = await SendAsync(HttpMethod.Get, "/cors", ("Origin", "https://api.trusted.example")))
        {
            Assert.Equal("https://api.trusted.example", Header(regex, "Access-Control-Allow-Origin"));
            Assert.Equal("x-backend", Header(regex, "Access-Control-Expose-Headers"));
            Assert.Equal("app", Header(regex, "x-backend"));
        }

        using var refused = await SendAsync(HttpMethod.Options, "/cors", ("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST"));
        Assert.Equal("app", Header(refused, "x-backend")); // passed through, untouched
        Assert.Null(Header(refused, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ConnectionPoolLimits_LetTwoReachThePod_OneWait_AndAnswerTheRestOverflowAtOnce()
    {
        var requests = Enumerable.Range(0, 12).Select(_ => SendAsync(HttpMethod.Get, "/hold", host: "limited")).ToList();

        // Nine are refused without waiting for the held ones: two at the pod, one waiting for their place.
        await Until(() => requests.Count(static r => r.IsCompleted) == 9 && Volatile.Read(ref _holding) == 2);
        foreach (var refused in requests.Where(static r => r.IsCompleted))
        {
            using var response = await refused;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: overflow", await response.Content.ReadAsStringAsync(Ct));
            Assert.Equal("true", Header(response, "x-envoy-overloaded"));
        }

        _releaseHeld.TrySetResult();
        var rest = await Task.WhenAll(requests.Where(static r => !r.IsCompletedSuccessfully || r.Result.StatusCode == HttpStatusCode.OK));
        Assert.Equal(3, rest.Count(static r => r.StatusCode == HttpStatusCode.OK)); // the two held and the one that waited
        Assert.Equal(2, _mostHeld);
        Assert.Equal(9, _gateway.Overflows.GetMeasurementSnapshot().Sum(static m => m.Value));
        foreach (var response in rest)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task ConnectionPoolMaxRetries_LeavesTheAnswerStanding_WhereItWouldBeRetried()
    {
        using (var limited = await SendAsync(HttpMethod.Get, "/count-fail", host: "retrylimited"))
        {
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "failing"), (limited.StatusCode, await limited.Content.ReadAsStringAsync(Ct)));
        }

        Assert.Equal(1, Volatile.Read(ref _failures)); // maxRetries: 0, so no retry

        using (var free = await SendAsync(HttpMethod.Get, "/count-fail", host: "retryfree"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, free.StatusCode);
        }

        Assert.Equal(4, Volatile.Read(ref _failures)); // the same route without the limit: the try and its two retries
    }

    [Fact]
    public async Task ConnectionPoolLimits_HoldInTheHttpClientHandlerToo()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles([Path.Combine(_dir, "mesh.yaml")]);
        services.AddHttpClient("limited").AddDynamicSubsetRouting();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("limited");

        var requests = Enumerable.Range(0, 12).Select(_ => client.GetAsync("http://limited/hold", Ct)).ToList();
        await Until(() => requests.Count(static r => r.IsCompleted) == 9 && Volatile.Read(ref _holding) == 2);
        foreach (var refused in requests.Where(static r => r.IsCompleted))
        {
            using var response = await refused;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: overflow", await response.Content.ReadAsStringAsync(Ct));
        }

        _releaseHeld.TrySetResult();
        var held = await Task.WhenAll(requests.Where(static r => !r.IsCompleted || r.Result.StatusCode == HttpStatusCode.OK));
        Assert.Equal(3, held.Count(static r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(2, _mostHeld);
        foreach (var response in held)
        {
            response.Dispose();
        }
    }

    private static async Task Until(Func<bool> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    [Fact]
    public async Task SourceLabels_MatchOnlyAtAnEntryPointWithThoseLabels()
    {
        // This gateway has no labels of its own: the edge-only block never matches, the plain route takes the request.
        using (var unlabelled = await SendAsync(HttpMethod.Get, "/source"))
        {
            Assert.Equal("app", Header(unlabelled, "x-backend"));
        }

        await using var edge = await GatewayHarness.StartAsync("127.0.29.2", [Path.Combine(_dir, "mesh.yaml")], o => o.SourceLabels["role"] = "edge");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/source");
        request.Headers.Host = "app";
        using var labelled = await edge.Client.SendAsync(request, Ct);
        Assert.Equal("from the edge", await labelled.Content.ReadAsStringAsync(Ct));

        // The admin page explains with the gateway's own labels, so it names the route the gateway took.
        const string Explain = """{"service": "app", "method": "GET", "path": "/source"}""";
        Assert.Equal("edge-only", JsonDocument.Parse(await ExplainAsync(edge, Explain)).RootElement.GetProperty("route").GetString());
        Assert.Equal("plain", JsonDocument.Parse(await ExplainAsync(_gateway, Explain)).RootElement.GetProperty("route").GetString());
        Assert.DoesNotContain(edge.Logs.GetSnapshot(), r => r.Message.Contains("No healthy upstream", StringComparison.Ordinal)); // a direct response is no failure

        // And in the handler, with its application's labels.
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles([Path.Combine(_dir, "mesh.yaml")]);
        services.AddHttpClient("app").AddDynamicSubsetRouting().ConfigureDynamicSubsetHandler(o => o.SourceLabels["role"] = "edge");
        await using var provider = services.BuildServiceProvider();
        Assert.Equal("from the edge", await provider.GetRequiredService<IHttpClientFactory>().CreateClient("app").GetStringAsync("http://app/source", Ct));
    }

    [Fact]
    public async Task TheHttpClientHandler_DoesWhatASidecarWould_AndLeavesTheRequestAsItCame()
    {
        var services = new ServiceCollection();
        services.AddDynamicSubsetCatalogFromFiles([Path.Combine(_dir, "mesh.yaml")]);
        services.AddHttpClient("app").AddDynamicSubsetRouting().ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("app");

        using var request = new HttpRequestMessage(HttpMethod.Get, "http://app/api/v1/items?x=1");
        request.Headers.TryAddWithoutValidation("x-drop", "gone");
        using (var response = await client.SendAsync(request, Ct))
        {
            var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("/v1/items?x=1", seen.GetProperty("target").GetString());
            Assert.Equal("internal.example", seen.GetProperty("host").GetString());
            Assert.Equal("route", seen.GetProperty("headers").GetProperty("x-set").GetString());
            Assert.False(seen.GetProperty("headers").TryGetProperty("x-drop", out _));
            Assert.Equal("route", Header(response, "x-resp"));
            Assert.Null(Header(response, "x-remove-me"));
        }

        Assert.Equal(["gone"], request.Headers.GetValues("x-drop")); // undone for an outer retry policy
        Assert.False(request.Headers.Contains("x-set"));
        Assert.Equal("http://app/api/v1/items?x=1", request.RequestUri!.ToString());

        using (var redirect = await client.GetAsync("http://app/moved/here", Ct))
        {
            Assert.Equal((HttpStatusCode.Redirect, "http://example.com/new-place"), (redirect.StatusCode, redirect.Headers.Location!.ToString()));
        }

        using (var direct = await client.GetAsync("http://app/direct", Ct))
        {
            Assert.Equal(((HttpStatusCode)418, "short and stout"), (direct.StatusCode, await direct.Content.ReadAsStringAsync(Ct)));
        }

        using (var aborted = await client.GetAsync("http://app/abort", Ct))
        {
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "fault filter abort"), (aborted.StatusCode, await aborted.Content.ReadAsStringAsync(Ct)));
        }

        using (var mirrored = await client.GetAsync("http://app/mirror/handler", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, mirrored.StatusCode);
        }

        await _shadowReceived.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        Assert.Contains("app-shadow", _shadowHosts);
    }

    [Fact]
    public async Task TheYarpStep_CarriesOutTheSameActions_ThroughYarpsOwnForwarding()
    {
        await using var app = await StartYarpStepAsync("127.0.29.3", "app");
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(app.Urls.First()) };

        // Rewrite and header operations, each way.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/items?x=1"))
        {
            request.Headers.Add("x-drop", "gone");
            using var response = await client.SendAsync(request, Ct);
            var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal(("/v1/items?x=1", "internal.example"), (seen.GetProperty("target").GetString(), seen.GetProperty("host").GetString()));
            Assert.Equal(("route", "destination"), (seen.GetProperty("headers").GetProperty("x-set").GetString(), seen.GetProperty("headers").GetProperty("x-dest").GetString()));
            Assert.False(seen.GetProperty("headers").TryGetProperty("x-drop", out _));
            Assert.Equal(("route", null), (Header(response, "x-resp"), Header(response, "x-remove-me")));
        }

        // Answered by the step: a redirect, a direct response, a fault's abort, a CORS preflight; and the source-label block.
        using (var moved = await client.GetAsync("/moved/here", Ct))
        {
            Assert.Equal(HttpStatusCode.Redirect, moved.StatusCode);
            Assert.Equal("/new-place", moved.Headers.Location!.AbsolutePath);
        }

        using (var direct = await client.GetAsync("/direct", Ct))
        {
            Assert.Equal(((HttpStatusCode)418, "short and stout"), (direct.StatusCode, await direct.Content.ReadAsStringAsync(Ct)));
        }

        using (var aborted = await client.GetAsync("/abort", Ct))
        {
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "fault filter abort"), (aborted.StatusCode, await aborted.Content.ReadAsStringAsync(Ct)));
        }

        using (var preflight = new HttpRequestMessage(HttpMethod.Options, "/cors"))
        {
            preflight.Headers.Add("Origin", "https://good.example");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            using var response = await client.SendAsync(preflight, Ct);
            Assert.Equal(("https://good.example", null), (Header(response, "Access-Control-Allow-Origin"), Header(response, "x-backend")));
        }

        using (var edge = await client.GetAsync("/source", Ct))
        {
            Assert.Equal("from the edge", await edge.Content.ReadAsStringAsync(Ct));
        }

        // A mirrored copy reaches the shadow, with the shadow host (here the step's own authority, as the client sent it).
        using (var mirrored = await client.GetAsync("/mirror/yarp", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, mirrored.StatusCode);
        }

        await _shadowReceived.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        Assert.Contains(HttpMirror.ShadowHost(client.BaseAddress!.Authority), _shadowHosts);
    }

    [Fact]
    public async Task TheYarpStep_KeepsThePoolsConnectionLimits()
    {
        await using var app = await StartYarpStepAsync("127.0.29.4", "limited");
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var requests = Enumerable.Range(0, 12).Select(_ => client.GetAsync("/hold", Ct)).ToList();
        await Until(() => requests.Count(static r => r.IsCompleted) == 9 && Volatile.Read(ref _holding) == 2);
        foreach (var refused in requests.Where(static r => r.IsCompleted))
        {
            using var response = await refused;
            Assert.Equal((HttpStatusCode.ServiceUnavailable, DynamicSubset.Routing.Http.RoutingPipeline.OverflowBody), (response.StatusCode, await response.Content.ReadAsStringAsync(Ct)));
        }

        _releaseHeld.TrySetResult();
        foreach (var response in await Task.WhenAll(requests.Where(static r => !r.IsCompleted || r.Result.StatusCode == HttpStatusCode.OK)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        Assert.Equal(2, _mostHeld);
    }

    /// <summary>A YARP proxy on <paramref name="ip"/> with the step, one cluster named <paramref name="cluster"/> over the echo backend.</summary>
    private async Task<WebApplication> StartYarpStepAsync(string ip, string cluster)
    {
        var builder = TestApps.Builder($"http://{ip}:0");
        builder.Services.AddDynamicSubsetCatalogFromFiles([Path.Combine(_dir, "mesh.yaml")]);
        builder.Services.AddDynamicSubsetYarp(o => o.SourceLabels["role"] = "edge");
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new global::Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "all", ClusterId = cluster, Match = new() { Path = "/{**rest}" } }],
            [new global::Yarp.ReverseProxy.Configuration.ClusterConfig
            {
                ClusterId = cluster,
                Destinations = new Dictionary<string, global::Yarp.ReverseProxy.Configuration.DestinationConfig>
                {
                    ["app-1"] = new() { Address = "http://127.0.29.11:5678", Metadata = new Dictionary<string, string> { ["version"] = "v1" } },
                },
            }]);
        var app = builder.Build();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseDynamicSubsets();
            proxy.UseLoadBalancing();
        });
        await app.StartAsync(Ct);
        return app;
    }

    private static async Task<string> ExplainAsync(GatewayHarness gateway, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await gateway.Client.PostAsync("/debug/dynamic-subsets/explain", content, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return body;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;

    private async Task<JsonElement> EchoAsync(string path, params (string Name, string Value)[] headers)
    {
        using var response = await SendAsync(HttpMethod.Get, path, headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, params (string Name, string Value)[] headers) => SendAsync(method, path, null, "app", headers);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? content = null, string host = "app", params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Host = host;
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (content is not null)
        {
            request.Content = new StringContent(content);
        }

        return await _gateway.Client.SendAsync(request, Ct);
    }

    private static WebApplication Start(string ip)
    {
        var builder = TestApps.Builder($"http://{ip}:5678");
        return builder.Build();
    }
}
