namespace DynamicSubset.Routing;

/// <summary>
/// A request's headers, as the resolver reads them. Implement it on a <see langword="struct"/> that wraps
/// your header collection, so that resolving neither copies the headers nor allocates.
/// </summary>
/// <remarks>
/// Built-in sources: <see cref="DictionaryHeaderSource"/> and <see cref="HttpRequestHeadersSource"/>.
/// The ASP.NET Core package adds one for <c>IHeaderDictionary</c>.
/// </remarks>
public interface IHeaderSource
{
    /// <summary>
    /// Looks up the header <paramref name="name"/>, ignoring case, and adds each of its values to
    /// <paramref name="values"/> in order.
    /// </summary>
    /// <param name="name">The header name, lower-case.</param>
    /// <param name="values">Receives the header's values; the resolver joins several with <c>,</c>.</param>
    /// <returns><see langword="true"/> if the request carries the header, even with an empty value.</returns>
    bool TryGetValues(string name, ref HeaderValues values);
}
