using System.Collections.Immutable;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>The routing steps before and after the pool's resolution, shared by every entry point.</summary>
internal static class HttpRouting
{
    public static RouteDecision Route<THeaders, TCriteria>(RoutedService service, in RouteRequest request, THeaders headers, TCriteria criteria, Random? random)
        where THeaders : IHeaderSource, allows ref struct
        where TCriteria : IHeaderSource, allows ref struct
    {
        var routes = service.Routes;
        if (routes.IsEmpty)
        {
            var own = ResolveIn(service, request, headers, criteria, out var cookie);
            return new RouteDecision(service, null, -1, null, own, cookie);
        }

        var i = service.Table!.FirstMatch(request, headers, out var block);
        if (i >= 0)
        {
            var route = routes[i];
            if (route.PickDestination(random) is not { } destination)
            {
                return new RouteDecision(service, route, i, null, Resolution.Answered(), null) { MatchIndex = block }; // a redirect or a direct response
            }

            var resolution = ResolveIn(destination.Service, request, headers, criteria, out var setCookie);
            return new RouteDecision(destination.Service, route, i, destination, resolution, setCookie) { MatchIndex = block };
        }

        return new RouteDecision(service, null, -1, null, Resolution.NoRoute(), null);
    }

    public static ImmutableArray<RouteCheck> Explain<THeaders>(RoutedService service, in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource, allows ref struct =>
        service.Table is { } table ? table.Explain(service.Routes, request, headers) : [];

    /// <summary>Resolves in one pool, with the consistent-hash key its policy asks for.</summary>
    private static Resolution ResolveIn<THeaders, TCriteria>(RoutedService pool, in RouteRequest request, THeaders headers, TCriteria criteria, out string? setCookie)
        where THeaders : IHeaderSource, allows ref struct
        where TCriteria : IHeaderSource, allows ref struct
    {
        setCookie = null;
        var resolver = pool.Resolver;
        var caller = new CallerContext(request.SourceLocality, request.SourceLabels);
        if (resolver.Current.Policy.ConsistentHash is not { } policy)
        {
            return resolver.Resolve(criteria, null, caller);
        }

        ulong? key = policy.Source switch
        {
            ConsistentHashSource.Header => HeaderKey(headers, policy.Name!),
            ConsistentHashSource.Cookie => CookieKey(headers, policy.Name!),
            ConsistentHashSource.QueryParameter => request.TryGetQueryParameter(policy.Name!, out var value) ? StableHash.Of(value) : null,
            _ => request.SourceIp is { } ip ? AddressKey(ip) : null,
        };

        if (key is null && policy is { Source: ConsistentHashSource.Cookie, CookieTtl: { } ttl })
        {
            // As Envoy: a request without the cookie gets one, and is routed by it, so its next requests follow.
            Span<byte> bytes = stackalloc byte[8];
            System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
            var generated = Convert.ToHexStringLower(bytes);
            key = StableHash.Of(generated);
            setCookie = $"{policy.Name}={generated}" + (policy.CookiePath is { } path ? $"; Path={path}" : "") +
                (ttl > TimeSpan.Zero ? $"; Max-Age={(long)ttl.TotalSeconds}" : "") + "; HttpOnly";
        }

        return resolver.Resolve(criteria, key, caller);
    }

    private static ulong AddressKey(System.Net.IPAddress ip)
    {
        // The address's bytes (an IPv4 address mapped to IPv6 counts as the IPv4 one), hashed without a string.
        ip = ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out var written);
        return StableHash.Of(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(bytes[..(written & ~1)]));
    }

    private static ulong? HeaderKey<THeaders>(THeaders headers, string name)
        where THeaders : IHeaderSource, allows ref struct
    {
        var values = default(HeaderValues);
        ulong? key = headers.TryGetValues(name, ref values) && !values.IsTooLong ? StableHash.Of(values.AsSpan()) : null;
        if (values.UsedBuffer)
        {
            HeaderValues.ReleaseThreadBuffer();
        }

        return key;
    }

    private static ulong? CookieKey<THeaders>(THeaders headers, string name)
        where THeaders : IHeaderSource, allows ref struct
    {
        var values = default(HeaderValues);
        ulong? key = null;
        if (headers.TryGetValues("Cookie", ref values) && !values.IsTooLong)
        {
            var rest = values.AsSpan();
            while (rest.Length > 0)
            {
                var end = rest.IndexOfAny(';', ',');
                var pair = (end < 0 ? rest : rest[..end]).Trim();
                rest = end < 0 ? default : rest[(end + 1)..];
                var eq = pair.IndexOf('=');
                if (eq > 0 && pair[..eq].SequenceEqual(name))
                {
                    key = StableHash.Of(pair[(eq + 1)..].Trim('"'));
                    break;
                }
            }
        }

        if (values.UsedBuffer)
        {
            HeaderValues.ReleaseThreadBuffer();
        }

        return key;
    }
}
