namespace DynamicSubset.Routing.Configuration;

/// <summary>How serious a configuration diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>For information: for example, a document of a kind this library does not read was skipped.</summary>
    Info = 0,

    /// <summary>The configuration loads, but something in it is probably not what was meant.</summary>
    Warning = 1,

    /// <summary>The file is rejected whole.</summary>
    Error = 2,
}
