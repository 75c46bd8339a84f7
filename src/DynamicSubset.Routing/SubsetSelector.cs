using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// One entry of <c>subsetSelectors</c>: a set of keys that groups endpoints into subsets, with an optional
/// fallback policy of its own.
/// </summary>
/// <remarks>
/// Keys are a set: order does not matter, duplicates collapse, and <see cref="Keys"/> holds them sorted
/// ordinally. A key written <c>%name%</c> names a built-in attribute (see <see cref="BuiltInKeys"/>).
/// </remarks>
public sealed class SubsetSelector
{
    /// <summary>Initializes a new instance of the <see cref="SubsetSelector"/> class.</summary>
    /// <param name="keys">The grouping keys; at least one.</param>
    /// <param name="fallbackPolicy">The selector's own fallback policy, or <see langword="null"/> to use the global one.</param>
    /// <param name="fallbackKeysSubset">
    /// With <see cref="FallbackPolicy.KeysSubset"/> only: a non-empty proper subset of <paramref name="keys"/>.
    /// </param>
    /// <exception cref="RoutingValidationException">The selector is invalid; the message names the field.</exception>
    public SubsetSelector(
        IEnumerable<string> keys,
        FallbackPolicy? fallbackPolicy = null,
        IEnumerable<string>? fallbackKeysSubset = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        Keys = NormalizeKeys(keys, "keys", nameof(keys));
        if (Keys.IsEmpty)
        {
            throw new RoutingValidationException("keys", "a selector needs at least one key", nameof(keys));
        }

        if (fallbackPolicy is { } policy && !Enum.IsDefined(policy))
        {
            throw new RoutingValidationException("fallbackPolicy", $"unknown value '{policy}'", nameof(fallbackPolicy));
        }

        FallbackPolicy = fallbackPolicy;
        var subset = fallbackKeysSubset is null
            ? []
            : NormalizeKeys(fallbackKeysSubset, "fallbackKeysSubset", nameof(fallbackKeysSubset));

        if (fallbackPolicy == Routing.FallbackPolicy.KeysSubset)
        {
            if (subset.IsEmpty)
            {
                throw new RoutingValidationException(
                    "fallbackKeysSubset", "KEYS_SUBSET needs a non-empty fallbackKeysSubset", nameof(fallbackKeysSubset));
            }

            foreach (var key in subset)
            {
                if (Keys.BinarySearch(key, StringComparer.Ordinal) < 0)
                {
                    throw new RoutingValidationException(
                        "fallbackKeysSubset", $"'{key}' is not one of the selector's keys ({string.Join(", ", Keys)})", nameof(fallbackKeysSubset));
                }
            }

            if (subset.Length == Keys.Length)
            {
                throw new RoutingValidationException(
                    "fallbackKeysSubset", "must be a proper subset of the selector's keys, not all of them", nameof(fallbackKeysSubset));
            }
        }
        else if (!subset.IsEmpty)
        {
            throw new RoutingValidationException(
                "fallbackKeysSubset", "can be set only with fallbackPolicy KEYS_SUBSET", nameof(fallbackKeysSubset));
        }

        FallbackKeysSubset = subset;
    }

    /// <summary>Initializes a new instance of the <see cref="SubsetSelector"/> class with no policy of its own.</summary>
    /// <param name="keys">The grouping keys; at least one.</param>
    /// <exception cref="RoutingValidationException">The selector is invalid; the message names the field.</exception>
    public SubsetSelector(params string[] keys)
        : this((IEnumerable<string>)keys)
    {
    }

    /// <summary>Gets the keys, distinct and sorted ordinally.</summary>
    public ImmutableArray<string> Keys { get; }

    /// <summary>Gets the selector's own fallback policy, or <see langword="null"/> when the global policy applies.</summary>
    public FallbackPolicy? FallbackPolicy { get; }

    /// <summary>Gets the keys to retry with under <see cref="Routing.FallbackPolicy.KeysSubset"/>, sorted; otherwise empty.</summary>
    public ImmutableArray<string> FallbackKeysSubset { get; }

    /// <summary>Returns whether this selector has exactly the same key set as <paramref name="other"/>.</summary>
    /// <param name="other">The other selector.</param>
    /// <returns><see langword="true"/> if the key sets are equal.</returns>
    public bool HasSameKeys(SubsetSelector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Keys.SequenceEqual(other.Keys, StringComparer.Ordinal);
    }

    /// <summary>Returns the keys, for example <c>{stage, version}</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => "{" + string.Join(", ", Keys) + "}";

    private static ImmutableArray<string> NormalizeKeys(IEnumerable<string> keys, string field, string paramName)
    {
        var list = new List<string>();
        var i = 0;
        foreach (var key in keys)
        {
            BuiltInKeys.ValidateKey(key, $"{field}[{i}]", paramName);
            list.Add(key);
            i++;
        }

        list.Sort(StringComparer.Ordinal);
        return [.. list.Distinct(StringComparer.Ordinal)];
    }
}
