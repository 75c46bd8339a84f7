using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// Istio's <c>HeaderOperations</c>: headers to remove, to set (replacing any value), and to add (appending a value),
/// applied in Envoy's order: remove, then set, then add.
/// </summary>
public sealed class HeaderOperations
{
    /// <summary>Gets or initializes the headers to set, replacing what is there.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Set { get => field.IsDefault ? [] : field; init => field = Checked(value, "set"); }

    /// <summary>Gets or initializes the headers to add, after any value already there.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Add { get => field.IsDefault ? [] : field; init => field = Checked(value, "add"); }

    /// <summary>Gets or initializes the names of the headers to remove.</summary>
    public ImmutableArray<string> Remove
    {
        get => field.IsDefault ? [] : field;
        init
        {
            foreach (var name in value)
            {
                CheckName(name, "remove");
            }

            field = value;
        }
    }

    /// <summary>Gets a value indicating whether there is nothing to do.</summary>
    public bool IsEmpty => Set.IsEmpty && Add.IsEmpty && Remove.IsEmpty;

    /// <summary>Applies the operations in Envoy's order: remove, set, add. Allocates nothing of its own.</summary>
    /// <typeparam name="TWriter">The headers written to.</typeparam>
    /// <param name="writer">The headers written to.</param>
    public void ApplyTo<TWriter>(TWriter writer)
        where TWriter : IHeaderWriter, allows ref struct
    {
        foreach (var name in Remove)
        {
            writer.Remove(name);
        }

        foreach (var (name, value) in Set)
        {
            writer.Replace(name, value);
        }

        foreach (var (name, value) in Add)
        {
            writer.Add(name, value);
        }
    }

    private static ImmutableArray<KeyValuePair<string, string>> Checked(ImmutableArray<KeyValuePair<string, string>> value, string field)
    {
        foreach (var (name, text) in value)
        {
            CheckName(name, field);
            if (text is null || text.AsSpan().ContainsAny('\r', '\n', '\0'))
            {
                throw new RoutingValidationException($"{field}.{name}", "a header value must not be null or hold CR, LF or NUL", field);
            }
        }

        return value;
    }

    private static void CheckName(string name, string field)
    {
        if (string.IsNullOrEmpty(name) || name.AsSpan().ContainsAnyExcept(HeaderNameChars))
        {
            throw new RoutingValidationException(field, $"'{name}' is not a header name", field);
        }
    }

    private static readonly System.Buffers.SearchValues<char> HeaderNameChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}
