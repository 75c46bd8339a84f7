namespace DynamicSubset.Routing.Http;

/// <summary>How a request's tries ended.</summary>
public enum AttemptOutcomeKind
{
    /// <summary>The last try's response is the answer.</summary>
    Responded,

    /// <summary>
    /// The last try's response was held back for a retry that could not be made (no time or endpoint left): the response
    /// stands as the transport kept it.
    /// </summary>
    HeldBack,

    /// <summary>Every try allowed failed before a response: the entry point answers with a 503 or a 504.</summary>
    Failed,

    /// <summary>The caller went away, or the response failed after it had started: there is nothing to answer.</summary>
    Abandoned,

    /// <summary>No try was made: the pool's connection limits (<see cref="ConnectionPoolPolicy"/>) were full, and so was its wait; answered 503 <c>overflow</c>.</summary>
    Overflow,
}
