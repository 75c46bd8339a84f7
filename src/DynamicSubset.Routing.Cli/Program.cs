using DynamicSubset.Routing.Cli;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

return await Cli.RunAsync(args, CliOutput.FromConsole(), cancel.Token);
