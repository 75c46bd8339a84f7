using System.Net;
using Microsoft.AspNetCore.Http;

namespace DynamicSubset.Routing.AspNetCore;

/// <summary>
/// Which callers may set routing headers, and which values those may take: the view of a request's headers that
/// dynamic subset keys are read from at an edge. The gateway routes with it, and the admin view explains with the same
/// one, so an explanation cannot differ from what the gateway does.
/// </summary>
public sealed class TrustedRoutingHeaders
{
    /// <summary>Trusts every caller and every value: the view of a service behind the mesh, or of a client.</summary>
    public static readonly TrustedRoutingHeaders Everyone = new([], new Dictionary<string, ISet<string>>());

    private readonly IPNetwork[] _networks;
    private readonly IDictionary<string, ISet<string>> _values;

    /// <summary>Initializes a new instance of the <see cref="TrustedRoutingHeaders"/> class.</summary>
    /// <param name="networks">The networks whose callers may set routing headers; empty for every caller.</param>
    /// <param name="values">The values each routing header may take, by header name; a header not listed takes any value.</param>
    public TrustedRoutingHeaders(IEnumerable<IPNetwork> networks, IDictionary<string, ISet<string>> values)
    {
        ArgumentNullException.ThrowIfNull(networks);
        ArgumentNullException.ThrowIfNull(values);
        _networks = [.. networks];
        _values = values;
    }

    /// <summary>Gets a value indicating whether only some networks are trusted.</summary>
    public bool RestrictsCallers => _networks.Length > 0;

    /// <summary>Whether a caller may set routing headers: with no trusted networks every caller may; an unknown caller may not otherwise.</summary>
    /// <param name="caller">The caller's address, or <see langword="null"/> when unknown.</param>
    /// <returns><see langword="true"/> if its routing headers count.</returns>
    public bool IsTrusted(IPAddress? caller)
    {
        if (_networks.Length == 0)
        {
            return true;
        }

        if (caller is null)
        {
            return false;
        }

        caller = caller.IsIPv4MappedToIPv6 ? caller.MapToIPv4() : caller;
        foreach (var network in _networks)
        {
            if (network.Contains(caller))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The headers dynamic subset keys are read from, for a caller: its own if trusted, with disallowed values counted as absent.</summary>
    /// <param name="headers">The request's headers.</param>
    /// <param name="caller">The caller's address, or <see langword="null"/> when unknown.</param>
    /// <returns>The header source.</returns>
    public TrustedHeaderSource For(IHeaderDictionary headers, IPAddress? caller)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return new TrustedHeaderSource(headers, IsTrusted(caller), _values);
    }
}
