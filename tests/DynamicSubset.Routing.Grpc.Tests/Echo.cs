using System.Text;
using Grpc.Core;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary>
/// A gRPC service written without generated code: its methods carry UTF-8 strings, so that each answer can name the pod
/// that gave it. Grpc.AspNetCore binds them by name to <see cref="EchoService"/>'s methods.
/// </summary>
internal static class Echo
{
    public const string ServiceName = "test.Echo";

    private static readonly Marshaller<string> Text = Marshallers.Create(static s => Encoding.UTF8.GetBytes(s), static b => Encoding.UTF8.GetString(b));

    /// <summary>Unary: answers "pod|request".</summary>
    public static readonly Method<string, string> Who = new(MethodType.Unary, ServiceName, nameof(Who), Text, Text);

    /// <summary>Unary: UNAVAILABLE from a pod labelled flaky, an answer from the others.</summary>
    public static readonly Method<string, string> Flaky = new(MethodType.Unary, ServiceName, nameof(Flaky), Text, Text);

    /// <summary>Unary: waits for the request number of milliseconds (or the call's end), then answers.</summary>
    public static readonly Method<string, string> Slow = new(MethodType.Unary, ServiceName, nameof(Slow), Text, Text);

    /// <summary>Server streaming: the request number of messages "pod|i".</summary>
    public static readonly Method<string, string> Count = new(MethodType.ServerStreaming, ServiceName, nameof(Count), Text, Text);

    /// <summary>Client streaming: "pod|" and the messages joined.</summary>
    public static readonly Method<string, string> Join = new(MethodType.ClientStreaming, ServiceName, nameof(Join), Text, Text);

    /// <summary>Bidirectional: each message answered with "pod|message".</summary>
    public static readonly Method<string, string> Chat = new(MethodType.DuplexStreaming, ServiceName, nameof(Chat), Text, Text);

    /// <summary>A method no route matches (the VirtualService routes only /test.Echo/).</summary>
    public static readonly Method<string, string> Elsewhere = new(MethodType.Unary, "test.Other", "Call", Text, Text);
}

/// <summary>
/// Binds <see cref="EchoService"/>'s methods for Grpc.AspNetCore, as generated code would: one per <see cref="Echo"/> method,
/// the service activated per call.
/// </summary>
internal sealed class EchoMethods : global::Grpc.AspNetCore.Server.Model.IServiceMethodProvider<EchoService>
{
    public void OnServiceMethodDiscovery(global::Grpc.AspNetCore.Server.Model.ServiceMethodProviderContext<EchoService> context)
    {
        context.AddUnaryMethod(Echo.Who, [], static (service, request, call) => service.Who(request, call));
        context.AddUnaryMethod(Echo.Flaky, [], static (service, request, call) => service.Flaky(request, call));
        context.AddUnaryMethod(Echo.Slow, [], static (service, request, call) => service.Slow(request, call));
        context.AddServerStreamingMethod(Echo.Count, [], static (service, request, responses, call) => service.Count(request, responses, call));
        context.AddClientStreamingMethod(Echo.Join, [], static (service, requests, call) => service.Join(requests, call));
        context.AddDuplexStreamingMethod(Echo.Chat, [], static (service, requests, responses, call) => service.Chat(requests, responses, call));
    }
}

/// <summary>The pod's side of <see cref="Echo"/>.</summary>
internal sealed class EchoService(GrpcPod pod)
{
    public Task<string> Who(string request, ServerCallContext context)
    {
        pod.Hit();
        context.ResponseTrailers.Add("x-pod", pod.Name);
        return Task.FromResult($"{pod.Name}|{request}");
    }

    public Task<string> Flaky(string request, ServerCallContext context)
    {
        pod.Hit();
        return pod.Flaky
            ? throw new RpcException(new Status(StatusCode.Unavailable, $"{pod.Name} is unavailable"))
            : Task.FromResult($"{pod.Name}|{request}");
    }

    public async Task<string> Slow(string request, ServerCallContext context)
    {
        pod.Hit();
        try
        {
            await Task.Delay(int.Parse(request, System.Globalization.CultureInfo.InvariantCulture), context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            pod.Cancelled();
            throw;
        }

        return $"{pod.Name}|slow";
    }

    public async Task Count(string request, IServerStreamWriter<string> responses, ServerCallContext context)
    {
        pod.Hit();
        for (var i = 0; i < int.Parse(request, System.Globalization.CultureInfo.InvariantCulture); i++)
        {
            await responses.WriteAsync($"{pod.Name}|{i}");
        }
    }

    public async Task<string> Join(IAsyncStreamReader<string> requests, ServerCallContext context)
    {
        pod.Hit();
        var all = new List<string>();
        await foreach (var message in requests.ReadAllAsync())
        {
            all.Add(message);
        }

        return $"{pod.Name}|{string.Join(",", all)}";
    }

    public async Task Chat(IAsyncStreamReader<string> requests, IServerStreamWriter<string> responses, ServerCallContext context)
    {
        pod.Hit();
        await foreach (var message in requests.ReadAllAsync())
        {
            await responses.WriteAsync($"{pod.Name}|{message}");
        }
    }
}
