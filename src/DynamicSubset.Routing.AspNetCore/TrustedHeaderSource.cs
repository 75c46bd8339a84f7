using Microsoft.AspNetCore.Http;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>A request's routing headers through <see cref="TrustedRoutingHeaders"/>: an untrusted caller's, and disallowed values, count as absent.</summary>
public readonly struct TrustedHeaderSource : IHeaderSource
{
    private readonly IHeaderDictionary _headers;
    private readonly IDictionary<string, ISet<string>> _allowed;

    internal TrustedHeaderSource(IHeaderDictionary headers, bool trusted, IDictionary<string, ISet<string>> allowed)
    {
        _headers = headers;
        IsTrusted = trusted;
        _allowed = allowed;
    }

    /// <summary>Gets a value indicating whether the caller's routing headers count at all.</summary>
    public bool IsTrusted { get; }

    /// <inheritdoc />
    public bool TryGetValues(string name, ref HeaderValues values)
    {
        if (!IsTrusted || _headers is null || !_headers.TryGetValue(name, out var found))
        {
            return false;
        }

        if (_allowed.Count > 0 && _allowed.TryGetValue(name, out var allowedValues))
        {
            foreach (var value in found)
            {
                if (value is null || !allowedValues.Contains(value))
                {
                    return false;
                }
            }
        }

        return new HeaderDictionarySource(_headers).TryGetValues(name, ref values);
    }
}
