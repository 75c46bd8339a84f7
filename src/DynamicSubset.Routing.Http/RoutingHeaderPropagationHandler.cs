namespace DynamicSubset.Routing.Http;

/// <summary>Copies the current <see cref="RoutingHeaderContext"/> onto outgoing requests.</summary>
internal sealed class RoutingHeaderPropagationHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        RoutingHeaderContext.Current?.ApplyTo(request.Headers);
        return base.SendAsync(request, cancellationToken);
    }
}
