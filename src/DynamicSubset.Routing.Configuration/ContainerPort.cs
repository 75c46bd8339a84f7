namespace DynamicSubset.Routing.Configuration;

/// <summary>A container port of a pod: its name (for a Service's named targetPort) and number.</summary>
/// <param name="Name">The port's name, or <see langword="null"/>.</param>
/// <param name="Number">The port number.</param>
public readonly record struct ContainerPort(string? Name, int Number);
