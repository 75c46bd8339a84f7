namespace DynamicSubset.Routing.Http;

/// <summary>How a request's tries ended, for the entry point to write its answer.</summary>
public readonly struct AttemptOutcome
{
    internal AttemptOutcome(AttemptOutcomeKind kind, int attempts, Endpoint endpoint, RetryReason reason, Exception? error)
    {
        Kind = kind;
        Attempts = attempts;
        Endpoint = endpoint;
        Reason = reason;
        Error = error;
    }

    /// <summary>Gets how the tries ended.</summary>
    public AttemptOutcomeKind Kind { get; }

    /// <summary>Gets how many tries were made.</summary>
    public int Attempts { get; }

    /// <summary>Gets the endpoint of the last try.</summary>
    public Endpoint Endpoint { get; }

    /// <summary>Gets why the last try failed, for <see cref="AttemptOutcomeKind.Failed"/>.</summary>
    public RetryReason Reason { get; }

    /// <summary>Gets the last try's exception, for <see cref="AttemptOutcomeKind.Failed"/>, when there was one.</summary>
    public Exception? Error { get; }

    /// <summary>Gets a value indicating whether every try failed by timing out, so the answer is a 504 <c>upstream request timeout</c>.</summary>
    public bool TimedOut => Kind == AttemptOutcomeKind.Failed && Reason == RetryReason.PerTryTimeout;
}
