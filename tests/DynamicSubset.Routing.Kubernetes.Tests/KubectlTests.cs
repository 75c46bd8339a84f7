using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DynamicSubset.Routing.Kubernetes.Tests;

/// <summary>
/// The stand-in API server checked against the real kubectl of this machine: if kubectl can list and watch it, the
/// stand-in speaks the wire protocol the catalog's client speaks (docs/kubernetes.md says how to run it by hand).
/// </summary>
public sealed class KubectlTests
{
    [Fact]
    public async Task Kubectl_ListsAndWatchesTheStandIn()
    {
        await using var api = await FakeApiServer.StartAsync("127.0.30.2");
        api.Put("pods", Pod("first"));

        var (exit, list, error) = await RunAsync(api, TimeSpan.FromSeconds(30), "get", "pods", "-n", "default", "-o", "name");
        Assert.True(exit == 0, $"kubectl get pods failed ({exit}): {error}");
        Assert.Equal("pod/first", list.Trim());

        // A watch: kubectl prints the initial list, then the object of each event as it streams in.
        using var watch = Start(api, "get", "pods", "-n", "default", "-w", "-o", "name");
        try
        {
            var first = await watch.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.EndsWith("pod/first", first, StringComparison.Ordinal); // the initial list
            api.Put("pods", Pod("second"));
            var second = await watch.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal("pod/second", second);
            api.Delete("pods", "default", "first");
            var third = await watch.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal("pod/first", third); // its deletion
        }
        finally
        {
            watch.Kill();
        }
    }

    private static JsonObject Pod(string name) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default", ["labels"] = new JsonObject { ["app"] = "x" } },
        ["status"] = new JsonObject { ["podIP"] = "10.9.9.9" },
    };

    private static Process Start(FakeApiServer api, params string[] args)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--server", api.Address.ToString().TrimEnd('/'), "--kubeconfig", "/dev/null", .. args])
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            return Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("This test checks the stand-in API server against the real kubectl: install kubectl (it is on this project's machines).", e);
        }
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(FakeApiServer api, TimeSpan timeout, params string[] args)
    {
        using var process = Start(api, args);
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        return (process.ExitCode, await output, await error);
    }
}
