using DynamicSubset.Routing.AspNetCore;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace DynamicSubset.Routing.Yarp;

/// <summary>
/// Adds to every YARP route the response transform the YARP step's retries need: a status the route retries is held
/// back (no body reaches the client) while another try is allowed, and the per-try timeout stops once headers arrive.
/// </summary>
internal sealed class DynamicSubsetTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddResponseTransform(static transform =>
    {
        if (transform.ProxyResponse is { } response && transform.HttpContext.Features.Get<IDynamicSubsetRoutingFeature>() is YarpStepRequest state)
        {
            state.ResponseArrived();
            if (state.HoldBack(response))
            {
                transform.SuppressResponseBody = true;
            }
        }

        return default;
    });
}
