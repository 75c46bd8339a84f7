using BenchmarkDotNet.Running;
using DynamicSubset.Routing.Benchmarks;

if (args is ["kubernetes-scale", ..])
{
    // Not a BenchmarkDotNet class: a one-minute scenario against the stand-in API server (docs/performance.md).
    return await KubernetesScale.RunAsync(args[1..]);
}

if (args is ["diff-data", ..])
{
    // The input of benchmarks/diff-scale.sh.
    return await DiffData.RunAsync(args[1..]);
}

if (args is ["plain-forwarder", ..])
{
    // The baseline server of benchmarks/gateway-wrk.sh.
    return await PlainForwarder.RunAsync(args[1..]);
}

if (args is ["stand-in-cluster", ..])
{
    // The cluster of CHURN=pods benchmarks/gateway-wrk.sh.
    return await StandInCluster.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(args, new BenchmarkConfig());
return 0;
