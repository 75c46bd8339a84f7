using DynamicSubset.Routing.AspNetCore;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// Adds to every YARP route what the YARP step needs of its transforms: the VirtualService route's rewrite and request
/// header operations on the way out (after YARP's own transforms); and on the way back, the hold-back of a status the
/// route retries while another try is allowed (the per-try timeout stops once headers arrive), then the route's response
/// header operations and CORS headers on the answer the client gets.
/// </summary>
internal sealed class DynamicSubsetTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.AddRequestTransform(static transform =>
        {
            if (transform.HttpContext.Features.Get<IDynamicSubsetRoutingFeature>() is YarpStepRequest state)
            {
                if (state.Routed is { } routed)
                {
                    // The URI is the route's rewrite of the path as received; YARP's path transforms, if any, came before.
                    RouteActions.ApplyToRequest(transform.HttpContext, transform.ProxyRequest, routed, transform.DestinationPrefix);
                }

                RouteActions.ApplyConnectionSettings(transform.ProxyRequest, state.Decision.Service.ConnectionPool);
            }

            return default;
        });
        context.AddResponseTransform(static transform =>
        {
            if (transform.ProxyResponse is { } response && transform.HttpContext.Features.Get<IDynamicSubsetRoutingFeature>() is YarpStepRequest state)
            {
                state.ResponseArrived();
                if (state.HoldBack(response))
                {
                    transform.SuppressResponseBody = true;
                }
                else if (state.Routed is { } routed)
                {
                    RouteActions.ApplyToResponse(transform.HttpContext, routed);
                }
            }

            return default;
        });
    }
}
