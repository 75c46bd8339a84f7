namespace DynamicSubset.Routing.Configuration;

/// <summary>What a VirtualService route does besides choosing a destination, as read.</summary>
internal sealed record HttpRouteActions
{
    public HttpRewrite? Rewrite { get; init; }

    public HttpHeaderRules? Headers { get; init; }

    public HttpRedirect? Redirect { get; init; }

    public HttpDirectResponse? DirectResponse { get; init; }

    public HttpFault? Fault { get; init; }

    public HttpCorsPolicy? Cors { get; init; }

    /// <summary>Gets the mirrors' destinations with their shares; bound to pools like the route's own destinations.</summary>
    public List<(Destination Destination, double Percentage)> Mirrors { get; init; } = [];

    public bool AnswersItself => Redirect is not null || DirectResponse is not null;
}
