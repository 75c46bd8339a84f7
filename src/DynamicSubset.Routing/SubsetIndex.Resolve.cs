using System.Buffers;
using System.Collections.Immutable;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

public sealed partial class SubsetIndex
{
    /// <summary>
    /// Shows the criteria that a request's headers produce under this snapshot's header mappings, with where
    /// each value came from. For explaining a decision; the resolver does not call it.
    /// </summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="headers">The request's headers.</param>
    /// <returns>One entry per header mapping, in declaration order.</returns>
    public ImmutableArray<Criterion> ExplainCriteria<THeaders>(THeaders headers)
        where THeaders : IHeaderSource, allows ref struct
    {
        var result = ImmutableArray.CreateBuilder<Criterion>(_mappings.Length);
        foreach (var mapping in _mappings)
        {
            var values = default(HeaderValues);
            var present = headers.TryGetValues(mapping.Header, ref values);
            var criterion = Classify(present, ref values, mapping) switch
            {
                ValueSource.Header => new Criterion(mapping, values.ToText(), CriterionSource.Header),
                ValueSource.Default => new Criterion(mapping, mapping.DefaultValue, CriterionSource.Default, values.IsTooLong),
                ValueSource.EmptyHeader => new Criterion(mapping, null, CriterionSource.EmptyHeader),
                _ => new Criterion(mapping, null, CriterionSource.Absent, values.IsTooLong),
            };
            if (values.UsedBuffer)
            {
                HeaderValues.ReleaseThreadBuffer();
            }

            result.Add(criterion);
        }

        return result.MoveToImmutable();
    }

    /// <summary>Resolves one request against this snapshot. The hot path: no allocation, no lock.</summary>
    internal Resolution Resolve<THeaders>(THeaders headers, Random? random, ulong? hashKey = null, CallerContext caller = default)
        where THeaders : IHeaderSource, allows ref struct
    {
        if (_allEndpoints)
        {
            // No dynamicSubset: plain Istio routing over every routable endpoint.
            return Pick(_any, random, hashKey, caller) is var any and >= 0 ? Resolution.Matched(_any, any) : Resolution.NoHealthyUpstream(FallbackPolicy.AnyEndpoint, FallbackScope.Global);
        }

        if (_mappings.Length <= CriteriaBuffer.Capacity)
        {
            var buffer = default(CriteriaBuffer);
            Span<CriterionValue> criteria = buffer;
            var mask = ReadCriteria(headers, criteria);
            return Match(mask, criteria, random, hashKey, caller);
        }

        var rented = ArrayPool<CriterionValue>.Shared.Rent(_mappings.Length);
        try
        {
            var mask = ReadCriteria(headers, rented);
            return Match(mask, rented, random, hashKey, caller);
        }
        finally
        {
            ArrayPool<CriterionValue>.Shared.Return(rented, clearArray: true);
        }
    }

    /// <summary>Reads every mapped header into <paramref name="criteria"/>; returns the set of keys present as a bit mask.</summary>
    private ulong ReadCriteria<THeaders>(THeaders headers, Span<CriterionValue> criteria)
        where THeaders : IHeaderSource, allows ref struct
    {
        var mappings = _mappings;
        ulong mask = 0;
        var usedBuffer = false;
        for (var i = 0; i < mappings.Length; i++)
        {
            var mapping = mappings[i];
            var values = default(HeaderValues);
            var present = headers.TryGetValues(mapping.Header, ref values);
            switch (Classify(present, ref values, mapping))
            {
                case ValueSource.Header:
                    criteria[i] = values.ToCriterion();
                    mask |= 1UL << i;
                    usedBuffer |= values.UsedBuffer;
                    break;
                case ValueSource.Default:
                    criteria[i] = new CriterionValue(mapping.DefaultValue!);
                    mask |= 1UL << i;
                    break;
            }
        }

        if (usedBuffer)
        {
            // The joined values stay valid: the buffer is only reused by this thread's next resolution.
            HeaderValues.ReleaseThreadBuffer();
        }

        return mask;
    }

    /// <summary>SPEC rule 6: what one mapping contributes.</summary>
    private static ValueSource Classify(bool present, ref HeaderValues values, HeaderMapping mapping)
    {
        if (present && !values.IsTooLong)
        {
            // Present but empty: the request did carry the header, so the default does not apply.
            return values.Length > 0 ? ValueSource.Header : ValueSource.EmptyHeader;
        }

        // Absent, or longer than the limit (which counts as absent).
        return mapping.DefaultValue is not null ? ValueSource.Default : ValueSource.Absent;
    }

    /// <summary>SPEC rules 7 to 15: match, then fall back.</summary>
    private Resolution Match(ulong mask, ReadOnlySpan<CriterionValue> criteria, Random? random, ulong? hashKey, in CallerContext caller)
    {
        var viaKeysSubset = false;
        while (mask != 0)
        {
            var table = FindReachableTable(mask);
            if (table is null)
            {
                break;
            }

            var subset = table.Find(criteria);
            if (subset is not null && Pick(subset, random, hashKey, caller) is var index and >= 0)
            {
                return viaKeysSubset
                    ? Resolution.Fallback(subset, index, FallbackPolicy.KeysSubset, FallbackScope.Selector)
                    : Resolution.Matched(subset, index);
            }

            switch (table.Selector.FallbackPolicy)
            {
                case null:
                    return ApplyFallback(_globalFallback, FallbackScope.Global, random, hashKey, caller);
                case FallbackPolicy.KeysSubset:
                    // Retry with the criteria cut down; the mask shrinks every time, so this ends.
                    mask &= table.KeysSubsetMask;
                    viaKeysSubset = true;
                    continue;
                case { } policy:
                    return ApplyFallback(policy, FallbackScope.Selector, random, hashKey, caller);
            }
        }

        return ApplyFallback(_globalFallback, FallbackScope.Global, random, hashKey, caller);
    }

    /// <summary>
    /// One endpoint of a set: by the request's hash key under consistent hashing, else by the load balancer, within the
    /// caller's locality levels when it has a locality and the policy ranks by it.
    /// </summary>
    private int Pick(Subset set, Random? random, ulong? hashKey, in CallerContext caller) =>
        hashKey is { } hash && _consistentHash is { } policy ? set.PickByHash(hash, policy)
        : _locality is { } locality && caller.Locality is not null ? set.PickLocal(_loadBalancing, random, locality, _localityFailover, caller)
        : set.Pick(_loadBalancing, random);

    private SelectorTable? FindReachableTable(ulong mask)
    {
        var masks = _reachableMasks;
        for (var i = 0; i < masks.Length; i++)
        {
            if (masks[i] == mask)
            {
                return _reachable[i];
            }
        }

        return null;
    }

    /// <summary>SPEC rules 12 to 15: a fallback's answer is final.</summary>
    private Resolution ApplyFallback(FallbackPolicy policy, FallbackScope scope, Random? random, ulong? hashKey, in CallerContext caller)
    {
        var set = policy switch
        {
            FallbackPolicy.AnyEndpoint => _any,
            FallbackPolicy.DefaultSubset => _default ?? _any,
            _ => null,
        };

        return set is not null && Pick(set, random, hashKey, caller) is var index and >= 0
            ? Resolution.Fallback(set, index, policy, scope)
            : Resolution.NoHealthyUpstream(policy, scope);
    }

    private enum ValueSource
    {
        Absent,
        Header,
        Default,
        EmptyHeader,
    }
}
