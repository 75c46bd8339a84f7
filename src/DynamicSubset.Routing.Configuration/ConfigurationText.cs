namespace DynamicSubset.Routing.Configuration;

/// <summary>A named piece of configuration text: a file's name and its content.</summary>
/// <param name="Name">The name shown in diagnostics, usually the file's path.</param>
/// <param name="Content">The YAML or JSON text; several documents may be separated by <c>---</c>.</param>
public readonly record struct ConfigurationText(string Name, string Content);
