using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace DynamicSubset.Routing;

/// <summary>
/// An immutable, ordinal, sorted set of labels. Endpoints carry a handful of labels, so a sorted array
/// with binary search is smaller and faster to build than a hashed dictionary.
/// </summary>
/// <remarks>
/// <see cref="Endpoint.Create(string, int, IEnumerable{KeyValuePair{string, string}}?, bool, long, string?)"/> keeps a
/// <see cref="LabelSet"/> it is given as it is, and copies any other collection into one. A source that makes many
/// endpoints from the same labels (every port of a pod, every service that selects it, each compile of an unchanged
/// pod) can create the set once and hand it over, so they all share it instead of each holding a copy.
/// </remarks>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "A set of labels, as Kubernetes names it (labels.Set); 'LabelDictionary' would say how it is stored, not what it is.")]
public sealed class LabelSet : IReadOnlyDictionary<string, string>, IEquatable<LabelSet>
{
    /// <summary>Gets the set with no labels.</summary>
    public static readonly LabelSet Empty = new([]);

    private readonly KeyValuePair<string, string>[] _pairs;

    private LabelSet(KeyValuePair<string, string>[] sortedPairs) => _pairs = sortedPairs;

    /// <summary>Creates a label set; a <see cref="LabelSet"/> is returned as it is.</summary>
    /// <param name="labels">The labels; <see langword="null"/> or empty gives <see cref="Empty"/>.</param>
    /// <returns>The set.</returns>
    /// <exception cref="RoutingValidationException">A key is empty, a value is null, or a key is given twice.</exception>
    public static LabelSet Create(IEnumerable<KeyValuePair<string, string>>? labels) => Create(labels, nameof(labels));

    internal static LabelSet Create(IEnumerable<KeyValuePair<string, string>>? labels, string paramName)
    {
        if (labels is null)
        {
            return Empty;
        }

        if (labels is LabelSet set)
        {
            return set;
        }

        var pairs = labels.ToArray();
        if (pairs.Length == 0)
        {
            return Empty;
        }

        for (var i = 0; i < pairs.Length; i++)
        {
            var (key, value) = pairs[i];
            if (string.IsNullOrEmpty(key))
            {
                throw new RoutingValidationException($"labels[{i}]", "label key must not be empty", paramName);
            }

            if (value is null)
            {
                throw new RoutingValidationException($"labels['{key}']", "label value must not be null", paramName);
            }
        }

        Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        for (var i = 1; i < pairs.Length; i++)
        {
            if (string.Equals(pairs[i - 1].Key, pairs[i].Key, StringComparison.Ordinal))
            {
                throw new RoutingValidationException($"labels['{pairs[i].Key}']", "label is given twice", paramName);
            }
        }

        return new LabelSet(pairs);
    }

    /// <inheritdoc/>
    public int Count => _pairs.Length;

    /// <inheritdoc/>
    public string this[string key] =>
        TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"No label '{key}'.");

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _pairs.Select(static p => p.Key);

    /// <inheritdoc/>
    public IEnumerable<string> Values => _pairs.Select(static p => p.Value);

    /// <inheritdoc/>
    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        var i = IndexOf(key);
        if (i < 0)
        {
            value = null;
            return false;
        }

        value = _pairs[i].Value;
        return true;
    }

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _pairs.AsSpan().BinarySearch(new KeyOrder(key));
    }

    private readonly struct KeyOrder(string key) : IComparable<KeyValuePair<string, string>>
    {
        public int CompareTo(KeyValuePair<string, string> other) => string.CompareOrdinal(key, other.Key);
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)_pairs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(LabelSet? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._pairs.Length != _pairs.Length)
        {
            return false;
        }

        for (var i = 0; i < _pairs.Length; i++)
        {
            if (!string.Equals(_pairs[i].Key, other._pairs[i].Key, StringComparison.Ordinal) ||
                !string.Equals(_pairs[i].Value, other._pairs[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (key, value) in _pairs)
        {
            hash.Add(key, StringComparer.Ordinal);
            hash.Add(value, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", _pairs.Select(static p => $"{p.Key}={p.Value}"));
}
