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

    private readonly Condition[]?[][] _blocks; // per route: its blocks, or an empty array for a route that matches everything

    private RouteTable(string[] headerNames, Condition[]?[][] blocks)
    {
        HeaderNames = headerNames;
        _blocks = blocks;
    }

    public string[] HeaderNames { get; }

    public static RouteTable Create(ReadOnlySpan<HttpRouteRule> routes)
    {
        var names = new List<string>();
        int Slot(string name)
        {
            var i = names.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
            if (i < 0)
            {
                names.Add(name);
                i = names.Count - 1;
            }

            return i;
        }

        var blocks = new Condition[]?[routes.Length][];
        for (var r = 0; r < routes.Length; r++)
        {
            var matches = routes[r].Matches;
            blocks[r] = new Condition[]?[matches.Length];
            for (var m = 0; m < matches.Length; m++)
            {
                var match = matches[m];
                var conditions = new List<Condition>();
                if (match.Port is { } port)
                {
                    conditions.Add(new Condition(ConditionKind.Port, null, port: port));
                }

                Add(conditions, ConditionKind.Method, match.Method);
                Add(conditions, ConditionKind.Scheme, match.Scheme);
                Add(conditions, ConditionKind.Uri, match.Uri, match.IgnoreUriCase);
                Add(conditions, ConditionKind.Authority, match.Authority);
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

                blocks[r][m] = [.. conditions.OrderBy(static c => c.Cost)]; // stable: equal costs keep their order
            }
        }

        return new RouteTable([.. names], blocks);

        static void Add(List<Condition> conditions, ConditionKind kind, StringMatch? match, bool ignoreCase = false)
        {
            if (match is not null)
            {
                conditions.Add(new Condition(kind, match, ignoreCase: ignoreCase));
            }
        }
    }

    /// <summary>The index of the first route the request matches, or -1.</summary>
    public int FirstMatch<THeaders>(in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource, allows ref struct
    {
        var context = new Context(request);
        var cache = default(HeaderCache);
        var usedBuffer = false;
        try
        {
            var blocks = _blocks;
            for (var r = 0; r < blocks.Length; r++)
            {
                var route = blocks[r];
                if (route.Length == 0)
                {
                    return r;
                }

                foreach (var block in route)
                {
                    if (Holds(block!, ref context, ref cache, headers, ref usedBuffer))
                    {
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

    private bool Holds<THeaders>(Condition[] block, ref Context context, ref HeaderCache cache, THeaders headers, ref bool usedBuffer)
        where THeaders : IHeaderSource, allows ref struct
    {
        foreach (var c in block)
        {
            var holds = c.Kind switch
            {
                ConditionKind.Port => context.Request.Port == c.Port,
                ConditionKind.Method => c.Match!.IsMatch(context.Request.Method),
                ConditionKind.Scheme => c.Match!.IsMatch(context.Request.Scheme),
                ConditionKind.Uri => c.Match!.IsMatch(context.Path, c.IgnoreCase),
                ConditionKind.Authority => context.Request.Authority is { } authority && c.Match!.IsMatch(authority),
                ConditionKind.Header => Header(c, ref cache, headers, ref usedBuffer, out var value) && c.Match!.IsMatch(value),
                ConditionKind.WithoutHeader => !(Header(c, ref cache, headers, ref usedBuffer, out var value) && c.Match!.IsMatch(value)),
                _ => c.Query(context.Request),
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The header's value (read once per request for the first <see cref="CachedHeaders"/> names); false when absent or too long.</summary>
    private bool Header<THeaders>(Condition c, ref HeaderCache cache, THeaders headers, ref bool usedBuffer, out ReadOnlySpan<char> value)
        where THeaders : IHeaderSource, allows ref struct
    {
        if (c.Slot < HeaderCache.Capacity)
        {
            ref var slot = ref cache[c.Slot];
            if (slot.State == 0)
            {
                var values = default(HeaderValues);
                var present = headers.TryGetValues(HeaderNames[c.Slot], ref values) && !values.IsTooLong;
                usedBuffer |= values.UsedBuffer;
                slot = present ? new HeaderSlot(2, values.ToCriterion()) : new HeaderSlot(1, default);
            }

            value = slot.State == 2 ? slot.Value.Span : default;
            return slot.State == 2;
        }

        var uncached = default(HeaderValues);
        var found = headers.TryGetValues(c.Name!, ref uncached) && !uncached.IsTooLong;
        usedBuffer |= uncached.UsedBuffer;
        value = found ? uncached.ToCriterion().Span : default;
        return found;
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
    }

    private sealed class Condition(ConditionKind kind, StringMatch? match, bool ignoreCase = false, int slot = 0, string? name = null, int port = 0)
    {
        public ConditionKind Kind { get; } = kind;

        public StringMatch? Match { get; } = match;

        public bool IgnoreCase { get; } = ignoreCase;

        public int Slot { get; } = slot;

        public string? Name { get; } = name;

        public int Port { get; } = port;

        /// <summary>Cheapest first: a number, then ordinal compares, then the query string's scan, then regexes.</summary>
        public int Cost => Kind == ConditionKind.Port ? 0 : Match?.Kind == StringMatchKind.Regex ? 3 : Kind == ConditionKind.Query ? 2 : 1;

        public bool Query(in RouteRequest request) => request.TryGetQueryParameter(Name!, out var raw) && HttpRouteMatch.QueryMatches(raw, Match!);
    }

    /// <summary>What every condition of one request shares, computed once.</summary>
    private ref struct Context(in RouteRequest request)
    {
        public readonly RouteRequest Request = request;
        public readonly ReadOnlySpan<char> Path = request.PathOnly;
    }

    private readonly struct HeaderSlot(byte state, CriterionValue value)
    {
        public byte State { get; } = state; // 0: not read yet, 1: absent, 2: present

        public CriterionValue Value { get; } = value;
    }

    [InlineArray(Capacity)]
    private struct HeaderCache
    {
        public const int Capacity = 16;

        private HeaderSlot _element;
    }
}
