namespace DynamicSubset.Routing.Configuration;

/// <summary>Where a document came from, and what it is.</summary>
/// <param name="Kind">The document's kind, for example <c>DestinationRule</c>.</param>
/// <param name="ApiVersion">The document's apiVersion.</param>
/// <param name="Name">metadata.name, or empty.</param>
/// <param name="Namespace">metadata.namespace, or <c>default</c>.</param>
/// <param name="File">The file it was read from.</param>
/// <param name="Line">The 1-based line where it starts.</param>
public sealed record MeshDocument(string Kind, string ApiVersion, string Name, string Namespace, string File, int Line);
