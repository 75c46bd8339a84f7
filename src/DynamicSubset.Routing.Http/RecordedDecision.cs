namespace DynamicSubset.Routing.Http;

/// <summary>A decision that was not a plain match, kept for "why did this request get a 503".</summary>
/// <param name="Sequence">Its number, in the order decisions were made.</param>
/// <param name="At">When it was made.</param>
/// <param name="Service">The service, or <see langword="null"/> when the host named none.</param>
/// <param name="Host">The request's host, cut short, when it named no service.</param>
/// <param name="Explanation">The criteria and the decision, when a service was found.</param>
public sealed record RecordedDecision(long Sequence, DateTimeOffset At, string? Service, string? Host, Explanation? Explanation)
{
    /// <summary>Gets the service the request's host named (its routes' owner); <see cref="Service"/> is the pool it was resolved in.</summary>
    public string? EntryService { get; init; }

    /// <summary>Gets the request's method, path, authority, scheme, port and caller, for replaying it (<c>what if</c>).</summary>
    public RouteRequest Request { get; init; }
}
