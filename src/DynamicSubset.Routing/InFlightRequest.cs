using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing;

/// <summary>An in-flight request to an endpoint; disposing it records that the request ended.</summary>
public readonly struct InFlightRequest : IDisposable
{
    private readonly InFlightCounter? _counter;

    internal InFlightRequest(InFlightCounter? counter) => _counter = counter;

    /// <summary>Records the end of the request. Call it once.</summary>
    public void Dispose() => _counter?.Decrement();
}
