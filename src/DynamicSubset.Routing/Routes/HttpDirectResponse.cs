namespace DynamicSubset.Routing;

/// <summary>Istio's <c>HTTPDirectResponse</c>: the route answers with this status and body itself, no endpoint involved.</summary>
public sealed class HttpDirectResponse
{
    /// <summary>Initializes a new instance of the <see cref="HttpDirectResponse"/> class.</summary>
    /// <param name="status">The status, from 200 to 599.</param>
    /// <param name="body">The body; empty for none.</param>
    public HttpDirectResponse(int status, ReadOnlyMemory<byte> body = default)
    {
        Status = status is >= 200 and <= 599 ? status : throw new RoutingValidationException("status", $"{status} is not a status from 200 to 599", nameof(status));
        Body = body;
    }

    /// <summary>Gets the status.</summary>
    public int Status { get; }

    /// <summary>Gets the body.</summary>
    public ReadOnlyMemory<byte> Body { get; }
}
