using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace DynamicSubset.Routing.Internal;

/// <summary>
/// A service's routes compiled for the request path: each match block as a flat list of conditions, cheapest first
/// (ports and methods, then exact and prefix compares, regexes last; all must hold, so the order changes no answer),
/// and every header the routes read given a slot, so a request reads each header once however many routes test it.
/// </summary>
internal sealed class RouteTable
{
    /// <summary>Headers beyond this many distinct names are read once per condition instead of once per request.</summary>
    public const int CachedHeaders = HeaderCache.Capacity;

    private readonly Condition[]?[][] _blocks;   // per route: its blocks, conditions cheapest first; empty for a route that matches everything
    private readonly Condition[]?[][] _declared; // the same conditions in the order the configuration gives them, for explanations
    private readonly Dispatch? _dispatch;

    private RouteTable(string[] headerNames, Condition[]?[][] blocks, Condition[]?[][] declared, Dispatch? dispatch)
    {
        HeaderNames = headerNames;
        _blocks = blocks;
        _declared = declared;
        _dispatch = dispatch;
    }

    public string[] HeaderNames { get; }

    public static RouteTable Create(ReadOnlySpan<HttpRouteRule> routes)
    {
        // Hashed: a file may name many distinct headers, and a scan per condition made building quadratic in them.
        var names = new List<string>();
        var slots = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        int Slot(string name)
        {
            if (!slots.TryGetValue(name, out var i))
            {
                slots[name] = i = names.Count;
                names.Add(name);
            }

            return i;
        }

        var blocks = new Condition[]?[routes.Length][];
        var declared = new Condition[]?[routes.Length][];
        for (var r = 0; r < routes.Length; r++)
        {
            var matches = routes[r].Matches;
            blocks[r] = new Condition[]?[matches.Length];
            declared[r] = new Condition[]?[matches.Length];
            for (var m = 0; m < matches.Length; m++)
            {
                var match = matches[m];
                var conditions = new List<Condition>();
                Add(conditions, ConditionKind.Uri, match.Uri, match.IgnoreUriCase);
                Add(conditions, ConditionKind.Scheme, match.Scheme);
                Add(conditions, ConditionKind.Method, match.Method);
                Add(conditions, ConditionKind.Authority, match.Authority);
                if (match.Port is { } port)
                {
                    conditions.Add(new Condition(ConditionKind.Port, null, port: port));
                }

                foreach (var (name, value) in match.Headers)
                {
                    conditions.Add(new Condition(ConditionKind.Header, value, slot: Slot(name), name: name));
                }

                foreach (var (name, value) in match.QueryParams)
                {
                    conditions.Add(new Condition(ConditionKind.Query, value, name: name));
                }

                foreach (var (name, value) in match.WithoutHeaders)
                {
                    conditions.Add(new Condition(ConditionKind.WithoutHeader, value, slot: Slot(name), name: name));
                }

                foreach (var (name, value) in match.SourceLabels)
                {
                    conditions.Add(new Condition(ConditionKind.SourceLabel, StringMatch.Exact(value), name: name));
                }

                declared[r][m] = [.. conditions];
                blocks[r][m] = [.. conditions.OrderBy(static c => c.Cost)]; // stable: equal costs keep their order
            }
        }

        return new RouteTable([.. names], blocks, declared, Dispatch.Create(blocks));

        static void Add(List<Condition> conditions, ConditionKind kind, StringMatch? match, bool ignoreCase = false)
        {
            if (match is not null)
            {
                conditions.Add(new Condition(kind, match, ignoreCase: ignoreCase));
            }
        }
    }

    /// <summary>The index of the first route the request matches, or -1; and which of its match blocks held (-1 for a route without any).</summary>
    public int FirstMatch<THeaders>(in RouteRequest request, THeaders headers, out int matched)
        where THeaders : IHeaderSource, allows ref struct
    {
        matched = -1;
        var context = new Context(request);
        var cache = default(HeaderCache);
        var usedBuffer = false;
        try
        {
            if (_dispatch is { } dispatch)
            {
                // Only the blocks whose exact conditions the request's values satisfy are evaluated, in order. There is
                // at least one dimension, and its masks have no bits past the last block, so the filled mask ends clean.
                Span<ulong> candidates = stackalloc ulong[dispatch.Words];
                dispatch.Candidates(candidates, ref context, ref cache, this, headers, ref usedBuffer);
                var blocks = dispatch.Blocks;
                for (var w = 0; w < candidates.Length; w++)
                {
                    var bits = candidates[w];
                    while (bits != 0)
                    {
                        var b = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        bits &= bits - 1;
                        var (route, block, index) = blocks[b];
                        if (block is null || Holds(block, ref context, ref cache, headers, ref usedBuffer))
                        {
                            matched = index;
                            return route;
                        }
                    }
                }

                return -1;
            }

            var routes = _blocks;
            for (var r = 0; r < routes.Length; r++)
            {
                var route = routes[r];
                if (route.Length == 0)
                {
                    return r;
                }

                for (var m = 0; m < route.Length; m++)
                {
                    if (Holds(route[m]!, ref context, ref cache, headers, ref usedBuffer))
                    {
                        matched = m;
                        return r;
                    }
                }
            }

            return -1;
        }
        finally
        {
            if (usedBuffer)
            {
                // Joined multi-value headers lived in this thread's buffer until now; the pool's resolution reuses it.
                HeaderValues.ReleaseThreadBuffer();
            }
        }
    }

    private bool Holds<THeaders>(Condition[] block, ref Context context, scoped ref HeaderCache cache, THeaders headers, scoped ref bool usedBuffer)
        where THeaders : IHeaderSource, allows ref struct
    {
        foreach (var c in block)
        {
            if (!Check(c, ref context, ref cache, headers, ref usedBuffer))
            {
                return false;
            }
        }

        return true;
    }

    private bool Check<THeaders>(Condition c, ref Context context, scoped ref HeaderCache cache, THeaders headers, scoped ref bool usedBuffer)
        where THeaders : IHeaderSource, allows ref struct =>
        c.Kind switch
        {
            ConditionKind.Port => context.Request.Port == c.Port,
            ConditionKind.Method => c.Test(context.Request.Method),
            ConditionKind.Scheme => c.Test(context.Request.Scheme),
            ConditionKind.Uri => c.Test(context.Path),
            ConditionKind.Authority => context.Request.Authority is { } authority && c.Test(authority),
            ConditionKind.Header => Header(c, ref cache, headers, ref usedBuffer, out var value) && c.Test(value),
            ConditionKind.WithoutHeader => !(Header(c, ref cache, headers, ref usedBuffer, out var value) && c.Test(value)),
            ConditionKind.SourceLabel => context.Request.SourceLabels is { } labels && labels.TryGetValue(c.Name!, out var label) && c.Test(label),
            _ => c.Query(context.Request),
        };

    /// <summary>
    /// Each route tried, in order, up to the one that matches: for a route that does not, the first failing condition
    /// (in the order the configuration gives them) of each block; for the one that does, which block holds. The same
    /// conditions and checks as <see cref="FirstMatch"/>; only this path builds text.
    /// </summary>
    public ImmutableArray<RouteCheck> Explain<THeaders>(ImmutableArray<HttpRouteRule> routes, in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource, allows ref struct
    {
        var context = new Context(request);
        var cache = default(HeaderCache);
        var usedBuffer = false;
        var checks = ImmutableArray.CreateBuilder<RouteCheck>();
        try
        {
            for (var r = 0; r < routes.Length; r++)
            {
                var route = routes[r];
                var label = route.Name ?? r.ToString(CultureInfo.InvariantCulture);
                if (route.Matches.IsEmpty)
                {
                    checks.Add(new RouteCheck(label, true, "no match conditions: matches every request" + route.DescribeActions()));
                    break;
                }

                var failures = new List<string>();
                var matched = -1;
                for (var m = 0; m < route.Matches.Length && matched < 0; m++)
                {
                    string? failure = null;
                    foreach (var c in _declared[r][m]!)
                    {
                        if (!Check(c, ref context, ref cache, headers, ref usedBuffer))
                        {
                            failure = Describe(c, ref context, ref cache, headers, ref usedBuffer);
                            break;
                        }
                    }

                    var block = route.Matches[m];
                    if (failure is null)
                    {
                        matched = m;
                        checks.Add(new RouteCheck(label, true, $"match[{m}]{Named(block)} holds: {block}{route.DescribeActions()}"));
                    }
                    else
                    {
                        failures.Add(route.Matches.Length == 1 ? failure : $"match[{m}]{Named(block)}: {failure}");
                    }
                }

                if (matched >= 0)
                {
                    break;
                }

                checks.Add(new RouteCheck(label, false, string.Join("; ", failures)));
            }

            return checks.ToImmutable();
        }
        finally
        {
            if (usedBuffer)
            {
                HeaderValues.ReleaseThreadBuffer();
            }
        }

        static string Named(HttpRouteMatch block) => block.Name is { } name ? $" ({name})" : "";
    }

    /// <summary>Why a condition failed, in words.</summary>
    private string Describe<THeaders>(Condition c, ref Context context, scoped ref HeaderCache cache, THeaders headers, scoped ref bool usedBuffer)
        where THeaders : IHeaderSource, allows ref struct => c.Kind switch
        {
            ConditionKind.Uri => $"uri {c.Match}{(c.IgnoreCase ? " (ignoreUriCase)" : "")} does not match '{Show(context.Path)}'",
            ConditionKind.Scheme => $"scheme {c.Match} does not match '{Show(context.Request.Scheme)}'",
            ConditionKind.Method => $"method {c.Match} does not match '{Show(context.Request.Method)}'",
            ConditionKind.Authority => $"authority {c.Match} does not match '{Show(context.Request.Authority ?? "")}'",
            ConditionKind.Port => $"port {c.Port} does not match {context.Request.Port}",
            ConditionKind.Header => Header(c, ref cache, headers, ref usedBuffer, out _)
                ? $"header {c.Name} does not match {c.Match}"
                : $"header {c.Name} is absent ({c.Match} needed)",
            ConditionKind.Query => $"query parameter {c.Name} does not match {c.Match}",
            ConditionKind.SourceLabel => context.Request.SourceLabels is null
                ? $"source label {c.Name}={c.Match!.Value}: the caller's labels are not known here"
                : $"source label {c.Name}={c.Match!.Value} is not on the caller",
            _ => $"withoutHeaders: header {c.Name} matches {c.Match}",
        };

    private static string Show(ReadOnlySpan<char> value) => value.Length <= 64 ? value.ToString() : value[..64].ToString() + "...";

    /// <summary>The header's value (read once per request for the first <see cref="CachedHeaders"/> names); false when absent or too long.</summary>
    private bool Header<THeaders>(Condition c, scoped ref HeaderCache cache, THeaders headers, scoped ref bool usedBuffer, out ReadOnlySpan<char> value)
        where THeaders : IHeaderSource, allows ref struct
    {
        if (c.Slot < HeaderCache.Capacity)
        {
            return Header(c.Slot, ref cache, headers, ref usedBuffer, out value);
        }

        var uncached = default(HeaderValues);
        var found = headers.TryGetValues(c.Name!, ref uncached) && !uncached.IsTooLong;
        usedBuffer |= uncached.UsedBuffer;
        value = found ? uncached.ToCriterion().Span : default;
        return found;
    }

    /// <summary>
    /// Exact conditions as a lookup: for each header (or the path) that some block requires to equal a value, the set of
    /// blocks a given value leaves possible, as a bit mask over the blocks in route order (up to 4,096 blocks). A request ANDs the
    /// masks of its values, then evaluates only the blocks left, lowest bit (earliest route) first: the same answer as
    /// trying every route in order, without comparing a value against twenty routes that each want another one.
    /// </summary>
    private sealed class Dispatch
    {
        /// <summary>The most blocks a dispatch covers (64 words on the stack); larger tables are tried route by route.</summary>
        private const int MaxBlocks = 64 * 64;

        private readonly Dimension[] _dimensions;

        private Dispatch((int Route, Condition[]? Block, int Index)[] blocks, Dimension[] dimensions)
        {
            Blocks = blocks;
            _dimensions = dimensions;
            Words = (blocks.Length + 63) / 64;
        }

        /// <summary>Gets every block in route order; a null block is a route without conditions.</summary>
        public (int Route, Condition[]? Block, int Index)[] Blocks { get; }

        /// <summary>Gets the length of a candidate mask, in 64-bit words.</summary>
        public int Words { get; }

        public static Dispatch? Create(Condition[]?[][] routes)
        {
            var blocks = new List<(int Route, Condition[]? Block, int Index)>();
            for (var r = 0; r < routes.Length; r++)
            {
                if (routes[r].Length == 0)
                {
                    blocks.Add((r, null, -1));
                    continue;
                }

                for (var m = 0; m < routes[r].Length; m++)
                {
                    blocks.Add((r, routes[r][m], m));
                }
            }

            if (blocks.Count > MaxBlocks)
            {
                return null;
            }

            // A dimension per header slot (and -1 for the path) that some block compares exactly.
            var words = (blocks.Count + 63) / 64;
            var dimensions = new List<Dimension>();
            foreach (var key in blocks.SelectMany(static b => b.Block ?? []).Where(static c => c.ExactKey is not null).Select(static c => c.ExactKey!.Value).Distinct())
            {
                var values = new Dictionary<string, ulong[]>(StringComparer.Ordinal);
                var unconstrained = new ulong[words];
                for (var b = 0; b < blocks.Count; b++)
                {
                    var wanted = (blocks[b].Block ?? []).Where(c => c.ExactKey == key).Select(static c => c.Match!.Value).Distinct().ToList();
                    if (wanted.Count == 0)
                    {
                        unconstrained[b >> 6] |= 1UL << b;
                    }
                    else if (wanted.Count == 1)
                    {
                        if (!values.TryGetValue(wanted[0], out var mask))
                        {
                            values[wanted[0]] = mask = new ulong[words];
                        }

                        mask[b >> 6] |= 1UL << b;
                    }

                    // Two different exact values for one header: the block can never match, and is in no mask.
                }

                dimensions.Add(new Dimension(key, values, unconstrained));
            }

            return dimensions.Count == 0 ? null : new Dispatch([.. blocks], [.. dimensions]);
        }

        /// <summary>Sets <paramref name="candidates"/> (<see cref="Words"/> long) to the blocks the request's exact values leave possible.</summary>
        public void Candidates<THeaders>(scoped Span<ulong> candidates, scoped ref Context context, scoped ref HeaderCache cache, RouteTable table, THeaders headers, scoped ref bool usedBuffer)
            where THeaders : IHeaderSource, allows ref struct
        {
            candidates.Fill(ulong.MaxValue);
            foreach (var dimension in _dimensions)
            {
                ReadOnlySpan<char> value;
                var present = dimension.Slot < 0
                    ? (value = context.Path).Length >= 0
                    : table.Header(dimension.Slot, ref cache, headers, ref usedBuffer, out value);
                var unconstrained = dimension.Unconstrained;
                if (present && dimension.Lookup.TryGetValue(value, out var wanted))
                {
                    for (var w = 0; w < candidates.Length; w++)
                    {
                        candidates[w] &= unconstrained[w] | wanted[w];
                    }
                }
                else
                {
                    for (var w = 0; w < candidates.Length; w++)
                    {
                        candidates[w] &= unconstrained[w];
                    }
                }
            }
        }

        private sealed class Dimension(int slot, Dictionary<string, ulong[]> values, ulong[] unconstrained)
        {
            public int Slot { get; } = slot;

            public ulong[] Unconstrained { get; } = unconstrained;

            public Dictionary<string, ulong[]>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; } = values.GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }

    private bool Header<THeaders>(int index, scoped ref HeaderCache cache, THeaders headers, scoped ref bool usedBuffer, out ReadOnlySpan<char> value)
        where THeaders : IHeaderSource, allows ref struct
    {
        ref var slot = ref cache[index];
        if (slot.State == 0)
        {
            var values = default(HeaderValues);
            var present = headers.TryGetValues(HeaderNames[index], ref values) && !values.IsTooLong;
            usedBuffer |= values.UsedBuffer;
            slot = present ? new HeaderSlot(2, values.ToCriterion()) : new HeaderSlot(1, default);
        }

        value = slot.State == 2 ? slot.Value.Span : default;
        return slot.State == 2;
    }

    private enum ConditionKind : byte
    {
        Port,
        Method,
        Scheme,
        Uri,
        Authority,
        Header,
        Query,
        WithoutHeader,
        SourceLabel,
    }

    private sealed class Condition(ConditionKind kind, StringMatch? match, bool ignoreCase = false, int slot = 0, string? name = null, int port = 0)
    {
        public ConditionKind Kind { get; } = kind;

        public StringMatch? Match { get; } = match;

        public bool IgnoreCase { get; } = ignoreCase;

        public int Slot { get; } = slot;

        public string? Name { get; } = name;

        public int Port { get; } = port;

        /// <summary>Gets the dispatch key of an exact, case-sensitive condition on a header (its slot) or the path (-1); else null.</summary>
        public int? ExactKey => Match?.Kind != StringMatchKind.Exact ? null
            : Kind == ConditionKind.Header && Slot < HeaderCache.Capacity ? Slot
            : Kind == ConditionKind.Uri && !IgnoreCase ? -1
            : null;

        /// <summary>Cheapest first: a number, then ordinal compares, then the query string's scan, then regexes.</summary>
        public int Cost => Kind == ConditionKind.Port ? 0 : Match?.Kind == StringMatchKind.Regex ? 3 : Kind == ConditionKind.Query ? 2 : 1;

        /// <summary>
        /// The match, with ordinal exact and prefix compares done here (the common case, and the bound on input length
        /// holds already: headers past it were read as absent, and a path that long fails here); the rest through the
        /// <see cref="StringMatch"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Test(ReadOnlySpan<char> value)
        {
            var match = Match!;
            if (!IgnoreCase && value.Length <= StringMatch.MaxInputLength)
            {
                if (match.Kind == StringMatchKind.Exact)
                {
                    return value.SequenceEqual(match.Value);
                }

                if (match.Kind == StringMatchKind.Prefix)
                {
                    return value.StartsWith(match.Value);
                }
            }

            return match.IsMatch(value, IgnoreCase);
        }

        public bool Query(in RouteRequest request) => request.TryGetQueryParameter(Name!, out var raw) && QueryMatches(raw, Match!);

        private static bool QueryMatches(ReadOnlySpan<char> raw, StringMatch match)
        {
            if (raw.IndexOfAny('%', '+') < 0)
            {
                return match.IsMatch(raw);
            }

            // Escaped: matched on the decoded value, as Envoy does. Only such a request pays for the copy.
            return raw.Length <= StringMatch.MaxInputLength && match.IsMatch(Uri.UnescapeDataString(raw.ToString().Replace('+', ' ')));
        }
    }

    /// <summary>What every condition of one request shares, computed once.</summary>
    private ref struct Context(in RouteRequest request)
    {
        public readonly RouteRequest Request = request;
        public readonly ReadOnlySpan<char> Path = request.PathOnly;
    }

    private readonly struct HeaderSlot(byte state, CriterionValue value)
    {
        public CriterionValue Value { get; } = value;

        public byte State { get; } = state; // 0: not read yet, 1: absent, 2: present
    }

    [InlineArray(Capacity)]
    private struct HeaderCache
    {
        public const int Capacity = 8;

        private HeaderSlot _element;
    }
}
