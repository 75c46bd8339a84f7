namespace DynamicSubset.Routing.Http;

/// <summary>
/// How an entry point sends one try of a request: an HttpClient's inner handler, YARP's forwarder, YARP's own pipeline.
/// The attempt loop (<see cref="RoutingPipeline.SendAsync"/>) decides everything else.
/// </summary>
public interface IAttemptTransport
{
    /// <summary>Gets a value indicating whether the request can be sent again: its body can be replayed and nothing has reached the caller.</summary>
    bool CanResend { get; }

    /// <summary>Sends one try, and classifies what came of it. Throws only for what no other endpoint could change.</summary>
    /// <param name="attempt">Where to send it, and within what time.</param>
    /// <param name="cancellationToken">Cancelled when the caller goes away.</param>
    /// <returns>What came of the try.</returns>
    ValueTask<AttemptResult> SendAsync(Attempt attempt, CancellationToken cancellationToken);

    /// <summary>Drops what a try that is about to be retried left behind: a held-back response, a status the forwarder set.</summary>
    void Discard();

    /// <summary>
    /// Called once with how the tries ended, before the loop returns it. An entry point that writes its own answer to a
    /// request the tries left unanswered (a gateway's 503 or 504) writes it here, and needs no frame of its own around
    /// the loop; one that builds its answer from the returned outcome (an HttpClient handler) does nothing, the default.
    /// </summary>
    /// <param name="outcome">How the tries ended.</param>
    /// <returns>When the answer is written.</returns>
    ValueTask CompleteAsync(AttemptOutcome outcome) => default;
}
