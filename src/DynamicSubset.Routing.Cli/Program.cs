using DynamicSubset.Routing.Cli;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    if (!Serve.HandlesSignals)
    {
        cancel.Cancel(); // serve drains on Ctrl+C itself, as on SIGTERM
    }
};

return await Cli.RunAsync(args, CliOutput.FromConsole(), cancel.Token);
