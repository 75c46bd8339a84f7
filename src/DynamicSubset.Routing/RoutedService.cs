using System.Collections.Immutable;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>One service of a catalog: its name, the hosts that name it, and its live resolver.</summary>
public sealed class RoutedService
{
    /// <summary>Initializes a new instance of the <see cref="RoutedService"/> class.</summary>
    /// <param name="name">The service's name, usually its fully qualified host (<c>helloworld.default.svc.cluster.local</c>).</param>
    /// <param name="resolver">The service's resolver.</param>
    /// <param name="aliases">Other hosts that name it, such as a VirtualService's hosts; <see langword="null"/> for none.</param>
    /// <param name="origin">Where it was defined, for operators: a file, <c>namespace/name</c>, an options name.</param>
    public RoutedService(string name, SubsetResolver resolver, IEnumerable<string>? aliases = null, string? origin = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(resolver);
        Name = name.TrimEnd('.');
        Resolver = resolver;
        Hosts = [Name, .. (aliases ?? []).Select(static a => a.TrimEnd('.')).Where(a => a.Length > 0 && !string.Equals(a, name, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.OrdinalIgnoreCase)];
        Origin = origin;
    }

    /// <summary>Gets the service's name.</summary>
    public string Name { get; }

    /// <summary>Gets every host that names the service: its name first, then its aliases.</summary>
    public ImmutableArray<string> Hosts { get; }

    /// <summary>Gets the service's resolver.</summary>
    public SubsetResolver Resolver { get; }

    /// <summary>Gets where the service was defined, for operators, or <see langword="null"/>.</summary>
    public string? Origin { get; }

    /// <summary>Gets or initializes the connection pool limits (circuit breaking), or <see langword="null"/> for none.</summary>
    public ConnectionPoolPolicy? ConnectionPool { get; init; }

    /// <summary>Gets or initializes the HTTP version its endpoints are sent requests in.</summary>
    /// <value>Defaults to <see cref="UpstreamProtocol.ClientProtocol"/>: the request's own version.</value>
    public UpstreamProtocol Protocol
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new RoutingValidationException("protocol", $"{(int)value} is not an upstream protocol", nameof(Protocol));
    }

    /// <summary>
    /// Gets or initializes the VirtualService routes of requests that name this service (<c>http[]</c>, in order). The
    /// first route that matches picks a destination; a request that matches none gets <c>no route</c>.
    /// </summary>
    /// <value>Defaults to empty: every request is resolved by <see cref="Resolver"/>.</value>
    public ImmutableArray<HttpRouteRule> Routes
    {
        get => field.IsDefault ? [] : field;
        init
        {
            for (var i = 0; i < value.Length; i++)
            {
                if (value[i] is null)
                {
                    throw new RoutingValidationException($"http[{i}]", "route must not be null", nameof(Routes));
                }

                if (value[i].Destinations.IsEmpty != value[i].AnswersItself || (value[i].Redirect is not null && value[i].DirectResponse is not null))
                {
                    throw new RoutingValidationException($"http[{i}]", "a route needs destinations, a redirect or a direct response: exactly one of them", nameof(Routes));
                }
            }

            field = value;
            Table = value.IsDefaultOrEmpty ? null : RouteTable.Create(value.AsSpan());
        }
    }

    /// <summary>Gets the routes compiled for the request path, or <see langword="null"/> without routes.</summary>
    internal RouteTable? Table { get; private init; }

    /// <summary>
    /// Routes a request: the first matching route picks a destination by weight, then the destination's pool resolves
    /// it (dynamic subsets, consistent hashing). Without <see cref="Routes"/>, this service's own resolver does. Lock-free;
    /// allocates nothing unless a regex needs it or an affinity cookie is generated.
    /// </summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers.</param>
    /// <returns>The decision.</returns>
    public RouteDecision Route<THeaders>(in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource, allows ref struct =>
        HttpRouting.Route(this, request, headers, headers, random: null);

    /// <summary>
    /// Routes a request whose dynamic subset keys come from other headers than its route matches and hash keys: a
    /// gateway matches routes on what the caller sent, but reads subset keys only from a trusted caller.
    /// </summary>
    /// <typeparam name="THeaders">The header source for matches and hash keys.</typeparam>
    /// <typeparam name="TCriteria">The header source for dynamic subset keys.</typeparam>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers, for route matches and hash keys.</param>
    /// <param name="criteriaHeaders">The headers dynamic subset keys are read from.</param>
    /// <returns>The decision.</returns>
    public RouteDecision Route<THeaders, TCriteria>(in RouteRequest request, THeaders headers, TCriteria criteriaHeaders)
        where THeaders : IHeaderSource, allows ref struct
        where TCriteria : IHeaderSource, allows ref struct =>
        HttpRouting.Route(this, request, headers, criteriaHeaders, random: null);

    /// <summary>Explains which route a request matches and why each earlier one did not (the first failing condition).</summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="headers">The request's headers.</param>
    /// <returns>One check per route tried, in order, up to the one that matched.</returns>
    public ImmutableArray<RouteCheck> ExplainRoutes<THeaders>(in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource, allows ref struct =>
        HttpRouting.Explain(this, request, headers);

    /// <inheritdoc />
    public override string ToString() => Name;
}
