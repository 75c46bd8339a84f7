using System.Net.Http.Headers;

namespace DynamicSubset.Routing;

/// <summary>Reads headers from an outgoing <see cref="HttpRequestHeaders"/>, without validating or parsing them.</summary>
/// <param name="headers">The headers.</param>
public readonly struct HttpRequestHeadersSource(HttpRequestHeaders headers) : IHeaderSource
{
    private readonly HttpRequestHeaders _headers = headers ?? throw new ArgumentNullException(nameof(headers));

    /// <inheritdoc />
    public bool TryGetValues(string name, ref HeaderValues values)
    {
        if (!_headers.NonValidated.TryGetValues(name, out var found))
        {
            return false;
        }

        foreach (var value in found)
        {
            values.Add(value);
        }

        return true;
    }
}
