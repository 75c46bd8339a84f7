using System.Collections.Immutable;
using System.Text.Json;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>
/// Why a request went where it went: the criteria its headers produced (each with where its value came from), the
/// decision (the subset matched, or the fallback taken and what it found), and the set the endpoint was picked from.
/// One explanation for every view: <c>dynsubset resolve</c> prints it, the admin page shows it, scripts read its JSON.
/// </summary>
public sealed class Explanation
{
    private Explanation(string service, ImmutableArray<Criterion> criteria, Resolution resolution)
    {
        Service = service;
        Criteria = criteria;
        Resolution = resolution;
    }

    /// <summary>Gets the VirtualService routes tried, in order, up to the one that matched; empty for a service without routes.</summary>
    public ImmutableArray<RouteCheck> Routes { get; private init; } = [];

    /// <summary>Gets the label of the route that matched (its name, else its index), or <see langword="null"/>.</summary>
    public string? Route { get; private init; }

    /// <summary>Gets the destination the route picked, or <see langword="null"/>.</summary>
    public RouteDestination? Destination { get; private init; }

    /// <summary>Gets the service the routes belong to: <see cref="Service"/> is the pool the request was resolved in.</summary>
    public string? EntryService { get; private init; }

    /// <summary>Gets the service.</summary>
    public string Service { get; }

    /// <summary>Gets the criteria, one per header mapping, in declaration order.</summary>
    public ImmutableArray<Criterion> Criteria { get; }

    /// <summary>Gets the resolution.</summary>
    public Resolution Resolution { get; }

    /// <summary>Gets the decision in one sentence, for example <c>matched subset stage=dev, version=v1</c>.</summary>
    public string Decision => Resolution.Outcome switch
    {
        ResolutionOutcome.NoRoute => "no route: no VirtualService route matches",
        ResolutionOutcome.Answered => "answered by the route itself (redirect or direct response): no endpoint",
        ResolutionOutcome.Matched when Resolution.Subset is null => "no dynamicSubset: any routable endpoint",
        ResolutionOutcome.Matched => $"matched subset {Resolution.Subset}",
        ResolutionOutcome.Fallback =>
            $"no subset matched; {Resolution.FallbackScope!.Value.ToMeshName()} fallback {Resolution.FallbackPolicy!.Value.ToMeshName()}" +
            (Resolution.Subset is { } s ? $" reached subset {s}" : ""),
        _ => $"no healthy upstream ({Resolution.FallbackScope!.Value.ToMeshName()} fallback {Resolution.FallbackPolicy!.Value.ToMeshName()} found no endpoint)",
    };

    /// <summary>Explains a request against a snapshot, resolving it there.</summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="service">The service's name.</param>
    /// <param name="resolver">The service's resolver; the request is resolved against its current snapshot.</param>
    /// <param name="headers">The request's headers.</param>
    /// <returns>The explanation.</returns>
    public static Explanation Of<THeaders>(string service, SubsetResolver resolver, THeaders headers)
        where THeaders : IHeaderSource
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(resolver);
        var index = resolver.Current;
        return new Explanation(service, index.ExplainCriteria(headers), index.Resolve(headers, random: null));
    }

    /// <summary>
    /// Routes a request through a service's VirtualService routes and explains it: each route tried and why it did not
    /// match, the route and destination picked, then the pool's criteria and decision.
    /// </summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="service">The service a request's host names.</param>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers.</param>
    /// <returns>The explanation.</returns>
    public static Explanation Of<THeaders>(RoutedService service, in RouteRequest request, THeaders headers)
        where THeaders : IHeaderSource =>
        Of(service, request, headers, headers);

    /// <summary>
    /// Routes and explains a request whose dynamic subset keys are read from other headers than its matches and hash keys
    /// (a gateway's trusted view of them), as <see cref="RoutedService.Route{THeaders, TCriteria}"/> routes it.
    /// </summary>
    /// <typeparam name="THeaders">The header source for matches and hash keys.</typeparam>
    /// <typeparam name="TCriteria">The header source for dynamic subset keys.</typeparam>
    /// <param name="service">The service a request's host names.</param>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers, for route matches and hash keys.</param>
    /// <param name="criteriaHeaders">The headers dynamic subset keys are read from.</param>
    /// <returns>The explanation.</returns>
    public static Explanation Of<THeaders, TCriteria>(RoutedService service, in RouteRequest request, THeaders headers, TCriteria criteriaHeaders)
        where THeaders : IHeaderSource
        where TCriteria : IHeaderSource
    {
        ArgumentNullException.ThrowIfNull(service);
        return Of(service, request, headers, criteriaHeaders, service.Route(request, headers, criteriaHeaders));
    }

    /// <summary>
    /// Explains a decision already made by <see cref="RoutedService.Route{THeaders, TCriteria}"/> for a request: the routes
    /// tried and why, then the picked pool's criteria; the destination and endpoint are the decision's own.
    /// </summary>
    /// <typeparam name="THeaders">The header source for matches and hash keys.</typeparam>
    /// <typeparam name="TCriteria">The header source for dynamic subset keys.</typeparam>
    /// <param name="service">The service a request's host names.</param>
    /// <param name="request">The request's method, path, authority, scheme, port and source.</param>
    /// <param name="headers">The request's headers, for route matches and hash keys.</param>
    /// <param name="criteriaHeaders">The headers dynamic subset keys are read from.</param>
    /// <param name="decision">The decision made for the request.</param>
    /// <returns>The explanation.</returns>
    public static Explanation Of<THeaders, TCriteria>(RoutedService service, in RouteRequest request, THeaders headers, TCriteria criteriaHeaders, RouteDecision decision)
        where THeaders : IHeaderSource
        where TCriteria : IHeaderSource
    {
        ArgumentNullException.ThrowIfNull(service);
        var checks = service.ExplainRoutes(request, headers);
        var pool = decision.Service;
        return new Explanation(pool.Name, decision.IsNoRoute ? [] : pool.Resolver.Current.ExplainCriteria(criteriaHeaders), decision.Resolution)
        {
            Routes = checks,
            Route = decision.RouteLabel,
            Destination = decision.Destination,
            EntryService = service.Routes.IsEmpty ? null : service.Name,
        };
    }

    /// <summary>Explains a resolution already made, with the criteria the same headers produce.</summary>
    /// <typeparam name="THeaders">The header source.</typeparam>
    /// <param name="service">The service's name.</param>
    /// <param name="index">The snapshot the request was resolved against.</param>
    /// <param name="headers">The request's headers.</param>
    /// <param name="resolution">The resolution.</param>
    /// <returns>The explanation.</returns>
    public static Explanation Of<THeaders>(string service, SubsetIndex index, THeaders headers, Resolution resolution)
        where THeaders : IHeaderSource
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(index);
        return new Explanation(service, index.ExplainCriteria(headers), resolution);
    }

    /// <summary>Where a criterion's value came from, in words: <c>header</c>, <c>default</c>, or why the key was left out.</summary>
    /// <param name="criterion">The criterion.</param>
    /// <returns>The words.</returns>
    public static string DescribeSource(Criterion criterion) => criterion.Source switch
    {
        CriterionSource.Header => "header",
        CriterionSource.Default => criterion.HeaderTooLong ? "default (header too long)" : "default",
        CriterionSource.EmptyHeader => "left out: header present but empty",
        _ => criterion.HeaderTooLong ? "left out: header too long, no default" : "left out: header absent, no default",
    };

    /// <summary>Writes the explanation as a JSON object: service, criteria, outcome, decision, subset, fallback, endpoint, and the endpoint set.</summary>
    /// <param name="writer">The writer.</param>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("service", Service);
        writer.WriteStartArray("criteria");
        foreach (var c in Criteria)
        {
            writer.WriteStartObject();
            writer.WriteString("header", c.Mapping.Header);
            writer.WriteString("key", c.Mapping.Key);
            writer.WriteString("value", c.Value);
            writer.WriteString("from", DescribeSource(c));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("outcome", Resolution.Outcome switch
        {
            ResolutionOutcome.Matched => "matched",
            ResolutionOutcome.Fallback => "fallback",
            ResolutionOutcome.NoRoute => "no_route",
            ResolutionOutcome.Answered => "answered",
            _ => "no_healthy_upstream",
        });
        writer.WriteString("decision", Decision);
        DecisionJson.WriteSubset(writer, Resolution.Subset);
        DecisionJson.WriteFallback(writer, Resolution);
        writer.WriteString("endpoint", Resolution.Endpoint?.Authority);
        writer.WriteStartArray("endpointSet");
        foreach (var endpoint in Resolution.CandidateEndpoints)
        {
            writer.WriteStringValue(endpoint.Name is null ? endpoint.Authority : $"{endpoint.Authority} {endpoint.Name}");
        }

        writer.WriteEndArray();
        if (EntryService is not null)
        {
            writer.WriteString("routedBy", EntryService);
            writer.WriteStartArray("routes");
            foreach (var check in Routes)
            {
                writer.WriteStartObject();
                writer.WriteString("route", check.Label);
                writer.WriteBoolean("matched", check.Matched);
                writer.WriteString("why", check.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (Destination is { } destination)
            {
                DecisionJson.WriteRoute(writer, Route, destination, Service);
            }
            else
            {
                writer.WriteString("route", Route);
                writer.WriteNull("destination");
            }
        }

        writer.WriteEndObject();
    }
}
