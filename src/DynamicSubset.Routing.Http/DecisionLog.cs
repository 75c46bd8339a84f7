namespace DynamicSubset.Routing.Http;

/// <summary>
/// The last decisions that were not plain matches: fallbacks, no healthy upstream, no route. A fixed ring written
/// lock-free (one increment and one reference write per decision); only requests that did not match pay for it.
/// </summary>
internal sealed class DecisionLog(int capacity = DecisionLog.DefaultCapacity)
{
    public const int DefaultCapacity = 200;
    private readonly RecordedDecision?[] _ring = new RecordedDecision?[capacity];
    private long _next;

    public long NextSequence() => Interlocked.Increment(ref _next);

    public void Add(RecordedDecision decision) => Volatile.Write(ref _ring[(int)(decision.Sequence % _ring.Length)], decision);

    /// <summary>Gets the kept decisions, newest first.</summary>
    public IReadOnlyList<RecordedDecision> Snapshot() =>
        [.. _ring.Select(static (_, i) => i).Select(i => Volatile.Read(ref _ring[i])).OfType<RecordedDecision>().OrderByDescending(static d => d.Sequence)];
}
