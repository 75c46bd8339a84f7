using Microsoft.AspNetCore.Http;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>Reads an ASP.NET Core request's headers for the resolver, without copying or allocating.</summary>
/// <param name="headers">The request's headers.</param>
public readonly struct HeaderDictionarySource(IHeaderDictionary headers) : IHeaderSource
{
    private readonly IHeaderDictionary _headers = headers ?? throw new ArgumentNullException(nameof(headers));

    /// <inheritdoc />
    public bool TryGetValues(string name, ref HeaderValues values)
    {
        if (!_headers.TryGetValue(name, out var found))
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
