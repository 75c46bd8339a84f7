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

    /// <summary>Applies the operations: remove, set, add.</summary>
    /// <param name="remove">Removes a header by name.</param>
    /// <param name="set">Sets a header to one value.</param>
    /// <param name="add">Appends a value to a header.</param>
    public void ApplyTo(Action<string> remove, Action<string, string> set, Action<string, string> add)
    {
        ArgumentNullException.ThrowIfNull(remove);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(add);
        foreach (var name in Remove)
        {
            remove(name);
        }

        foreach (var (name, value) in Set)
        {
            set(name, value);
        }

        foreach (var (name, value) in Add)
        {
            add(name, value);
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
