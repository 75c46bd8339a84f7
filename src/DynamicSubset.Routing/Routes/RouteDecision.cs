using System.Collections.Immutable;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// Where a request went: the VirtualService route it matched (or none), the destination that route picked, and the
/// resolution inside that destination's pool.
/// </summary>
public readonly struct RouteDecision
{
    internal RouteDecision(RoutedService service, HttpRouteRule? route, int routeIndex, RouteDestination? destination, Resolution resolution, string? setCookie)
    {
        Service = service;
        Route = route;
        RouteIndex = routeIndex;
        Destination = destination;
        Resolution = resolution;
        SetCookie = setCookie;
    }

    /// <summary>Gets the pool the request was resolved in: the destination's, or the entry service itself when it has no routes.</summary>
    public RoutedService Service { get; }

    /// <summary>Gets the route that matched, or <see langword="null"/> when the service has no routes or none matched.</summary>
    public HttpRouteRule? Route { get; }

    /// <summary>Gets the matched route's index in <c>http[]</c>, or -1.</summary>
    public int RouteIndex { get; }

    /// <summary>Gets the destination the route picked, or <see langword="null"/>.</summary>
    public RouteDestination? Destination { get; }

    /// <summary>Gets the resolution inside the pool; <see cref="ResolutionOutcome.NoRoute"/> when <see cref="IsNoRoute"/>.</summary>
    public Resolution Resolution { get; }

    /// <summary>Gets a <c>Set-Cookie</c> value to add to the response (a generated affinity cookie), or <see langword="null"/>.</summary>
    public string? SetCookie { get; }

    /// <summary>Gets a value indicating whether the service has routes and none matched: the request gets 404 <c>no route</c>.</summary>
    public bool IsNoRoute => Resolution.Outcome == ResolutionOutcome.NoRoute;

    /// <summary>Gets the route's label: its name, else its index as text; <see langword="null"/> without a route.</summary>
    public string? RouteLabel => Route is null ? null : Route.Name ?? RouteIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>How one route of <c>http[]</c> fared against a request, for explanations.</summary>
/// <param name="Label">The route's name, else its index as text.</param>
/// <param name="Matched">Whether the route matched.</param>
/// <param name="Reason">For a route that did not match, the first failing condition of each block; for the one that did, which block.</param>
public readonly record struct RouteCheck(string Label, bool Matched, string Reason);

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

        var i = service.Table!.FirstMatch(request, headers);
        if (i >= 0)
        {
            var route = routes[i];
            var destination = route.PickDestination(random);
            var resolution = ResolveIn(destination.Service, request, headers, criteria, out var setCookie);
            return new RouteDecision(destination.Service, route, i, destination, resolution, setCookie);
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
        if (resolver.Current.Policy.ConsistentHash is not { } policy)
        {
            return resolver.Resolve(criteria);
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

        return resolver.Resolve(criteria, key);
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
