using System.Diagnostics.CodeAnalysis;

namespace DynamicSubset.Routing;

/// <summary>
/// What one resolution decided: an endpoint with the subset it matched, an endpoint with the fallback that
/// chose it, or <c>no healthy upstream</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="ResolutionOutcome.Matched"/>: <see cref="Endpoint"/> and <see cref="Subset"/> are set; no fallback.</item>
/// <item><see cref="ResolutionOutcome.Fallback"/>: <see cref="Endpoint"/>, <see cref="FallbackPolicy"/> and
/// <see cref="FallbackScope"/> are set. <see cref="Subset"/> is set only when a <c>KEYS_SUBSET</c> retry matched one.</item>
/// <item><see cref="ResolutionOutcome.NoHealthyUpstream"/>: no endpoint. <see cref="FallbackPolicy"/> and
/// <see cref="FallbackScope"/> name the policy that found nothing.</item>
/// <item><see cref="ResolutionOutcome.NoRoute"/>: no VirtualService route matched; no endpoint, no fallback.</item>
/// </list>
/// </remarks>
public readonly struct Resolution
{
    // Outcome, policy and scope packed in one int (8 bits each, 0xFF for "none"); with the set and the index of
    // the endpoint in it, the struct is two words and returns in registers through the resolve path.
    private const int None = 0xFF;
    private readonly Subset? _set; // the set the endpoint was picked from (a dynamic subset, the default subset, or the any-endpoint set); null when there is no endpoint
    private readonly long _data; // the endpoint's index in _set.Routable (low half) and the packed outcome (high half): one store, one load

    private int Index => (int)_data;

    private int Packed => (int)(_data >> 32);

    private Resolution(ResolutionOutcome outcome, Subset? set, int index, FallbackPolicy? policy, FallbackScope? scope)
    {
        _set = set;
        var packed = (int)outcome | ((policy is { } p ? (int)p : None) << 8) | ((scope is { } s ? (int)s : None) << 16);
        _data = ((long)packed << 32) | (uint)index;
    }

    /// <summary>Gets what the resolution found.</summary>
    public ResolutionOutcome Outcome => (ResolutionOutcome)(Packed & 0xFF);

    /// <summary>Gets the chosen endpoint, or <see langword="null"/> for <c>no healthy upstream</c>.</summary>
    public Endpoint? Endpoint => _set?.Routable[Index].Endpoint;

    /// <summary>Gets the dynamic subset the endpoint came from, or <see langword="null"/> when a fallback chose it from the default or any-endpoint set.</summary>
    public Subset? Subset => _set is { IsSelectorSubset: true } ? _set : null;

    /// <summary>Gets the fallback policy that was applied, or <see langword="null"/> when the criteria matched directly.</summary>
    public FallbackPolicy? FallbackPolicy => ((Packed >> 8) & 0xFF) is var p && p != None ? (FallbackPolicy)p : null;

    /// <summary>Gets where the applied fallback policy came from, or <see langword="null"/> when none was applied.</summary>
    public FallbackScope? FallbackScope => ((Packed >> 16) & 0xFF) is var s && s != None ? (FallbackScope)s : null;

    /// <summary>
    /// Gets every routable endpoint of the set the endpoint was chosen from: the matched subset, or the fallback's
    /// set; empty for <c>no healthy upstream</c>. For callers that run their own load balancing (YARP).
    /// </summary>
    public System.Collections.Immutable.ImmutableArray<Endpoint> CandidateEndpoints => _set is null ? [] : _set.RoutableEndpoints;

    /// <summary>Gets a value indicating whether an endpoint was chosen.</summary>
    [MemberNotNullWhen(true, nameof(Endpoint))]
    public bool HasEndpoint => _set is not null;

    /// <summary>
    /// Records that a request to the chosen endpoint has started, for <see cref="LoadBalancingPolicy.LeastRequest"/>.
    /// Dispose the result exactly once, when the request ends.
    /// </summary>
    /// <returns>The tracker; disposing it records the end. Does nothing when there is no endpoint.</returns>
    public InFlightRequest TrackRequest()
    {
        var counter = _set?.Routable[Index].InFlight;
        counter?.Increment();
        return new InFlightRequest(counter);
    }

    /// <summary>
    /// Picks another routable endpoint from the same set this resolution chose from (the matched subset, or the
    /// fallback's set), skipping <paramref name="exclude"/>; for retrying on another endpoint after a connect failure.
    /// </summary>
    /// <param name="exclude">The addresses already tried.</param>
    /// <param name="next">The same resolution with another endpoint.</param>
    /// <returns><see langword="false"/> when every routable endpoint of the set has been tried, or there is no endpoint.</returns>
    public bool TryPickAnother(IReadOnlyCollection<EndpointAddress> exclude, out Resolution next)
    {
        ArgumentNullException.ThrowIfNull(exclude);
        var routable = _set is null ? default : _set.Routable;
        if (_set?.LocalityLevels is { } levels)
        {
            // Under localityLbSetting, the best level with an endpoint not yet tried, as a retry in the mesh stays local.
            foreach (var level in levels)
            {
                var first = Internal.FastRandom.Next(level.Length);
                for (var i = 0; i < level.Length; i++)
                {
                    var candidate = level[(first + i) % level.Length];
                    if (!exclude.Contains(routable[candidate].Address))
                    {
                        next = new Resolution(Outcome, _set, candidate, FallbackPolicy, FallbackScope);
                        return true;
                    }
                }
            }
        }

        var start = routable.Length == 0 ? 0 : Internal.FastRandom.Next(routable.Length);
        for (var i = 0; i < routable.Length; i++)
        {
            var candidate = (start + i) % routable.Length;
            if (!exclude.Contains(routable[candidate].Address))
            {
                next = new Resolution(Outcome, _set, candidate, FallbackPolicy, FallbackScope);
                return true;
            }
        }

        next = this;
        return false;
    }

    /// <summary>Returns a one-line description, for logs.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Outcome switch
    {
        ResolutionOutcome.NoRoute => "no route",
        ResolutionOutcome.Answered => "answered by the route",
        ResolutionOutcome.Matched when Subset is null => $"{Endpoint} (all endpoints: no dynamic subsets)",
        ResolutionOutcome.Matched => $"{Endpoint} (subset {Subset})",
        ResolutionOutcome.Fallback when Subset is not null => $"{Endpoint} ({FallbackText()}, subset {Subset})",
        ResolutionOutcome.Fallback => $"{Endpoint} ({FallbackText()})",
        _ => $"no healthy upstream ({FallbackText()})",
    };

    private string FallbackText() => $"{FallbackScope!.Value.ToMeshName()} fallback {FallbackPolicy!.Value.ToMeshName()}";

    internal static Resolution Matched(Subset subset, int index) =>
        new(ResolutionOutcome.Matched, subset, index, null, null);

    internal static Resolution Fallback(Subset set, int index, FallbackPolicy policy, FallbackScope scope) =>
        new(ResolutionOutcome.Fallback, set, index, policy, scope);

    internal static Resolution NoRoute() => new(ResolutionOutcome.NoRoute, null, 0, null, null);

    internal static Resolution Answered() => new(ResolutionOutcome.Answered, null, 0, null, null);

    internal static Resolution NoHealthyUpstream(FallbackPolicy policy, FallbackScope scope) =>
        new(ResolutionOutcome.NoHealthyUpstream, null, 0, policy, scope);
}
