namespace DynamicSubset.Routing.Http;

/// <summary>What one try came to.</summary>
public enum AttemptResultKind
{
    /// <summary>The endpoint answered.</summary>
    Response,

    /// <summary>The try failed before any response: another endpoint may be tried.</summary>
    Failed,

    /// <summary>The request ends here, retried nowhere.</summary>
    Abandoned,
}
