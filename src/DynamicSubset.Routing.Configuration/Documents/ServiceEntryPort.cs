namespace DynamicSubset.Routing.Configuration;

internal sealed record ServiceEntryPort(int Number, string? Name, int? TargetPort, string? Protocol);
