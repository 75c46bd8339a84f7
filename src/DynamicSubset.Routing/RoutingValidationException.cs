namespace DynamicSubset.Routing;

/// <summary>
/// The exception thrown when routing configuration or endpoint data is invalid.
/// </summary>
/// <remarks>
/// <see cref="FieldPath"/> names the offending field in the mesh's own spelling
/// (for example <c>subsetSelectors[0].fallbackKeysSubset</c>), so that a configuration
/// loader can map it back to a position in the user's file.
/// </remarks>
public sealed class RoutingValidationException : ArgumentException
{
    /// <summary>Initializes a new instance of the <see cref="RoutingValidationException"/> class.</summary>
    /// <param name="fieldPath">The path of the invalid field, for example <c>subsetSelectors[0].keys</c>.</param>
    /// <param name="reason">What is wrong with the field, without the path.</param>
    /// <param name="paramName">The parameter through which the value was passed.</param>
    public RoutingValidationException(string fieldPath, string reason, string? paramName = null)
        : base($"{fieldPath}: {reason}", paramName)
    {
        FieldPath = fieldPath;
        Reason = reason;
    }

    /// <summary>Gets the path of the invalid field.</summary>
    public string FieldPath { get; }

    /// <summary>Gets what is wrong with the field.</summary>
    public string Reason { get; }

    /// <summary>Gets the message, which is <c>FieldPath: Reason</c>.</summary>
    public override string Message => $"{FieldPath}: {Reason}";

    /// <summary>Returns a copy whose path is prefixed with <paramref name="prefix"/>.</summary>
    internal RoutingValidationException WithPrefix(string prefix, string? paramName) =>
        new(prefix.Length == 0 ? FieldPath : $"{prefix}.{FieldPath}", Reason, paramName ?? ParamName);
}
