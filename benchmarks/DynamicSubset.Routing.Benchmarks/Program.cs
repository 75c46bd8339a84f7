using BenchmarkDotNet.Running;
using DynamicSubset.Routing.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(args, new BenchmarkConfig());
