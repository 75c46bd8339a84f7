using System.Text.RegularExpressions;

namespace DynamicSubset.Routing;

/// <summary>
/// One Istio <c>StringMatch</c>: exact, prefix or regex (full match), case-sensitive unless asked otherwise. Regexes are
/// compiled once, with <see cref="RegexOptions.NonBacktracking"/> (linear in the input), and never see more than
/// <see cref="MaxInputLength"/> characters: a longer value does not match.
/// </summary>
public sealed class StringMatch
{
    /// <summary>The longest value a match reads; a longer one never matches.</summary>
    public const int MaxInputLength = 8192;

    /// <summary>The longest pattern or text.</summary>
    public const int MaxPatternLength = 1024;

    /// <summary>The most compiled patterns kept for reuse; past it, a pattern is compiled each time it is read.</summary>
    private const int MaxCachedRegexes = 4_096;

    // Compiling a NonBacktracking regex takes about half a millisecond: a configuration reloaded on every file edit would
    // compile all of its patterns again. Instances are immutable and safe to share between threads and snapshots.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    private static readonly System.Buffers.SearchValues<char> Metacharacters = System.Buffers.SearchValues.Create(@"\^$.|?*+()[]{}# ");

    private readonly Regex? _regex;
    private readonly string? _literalPrefix; // what every match of _regex starts with: a value without it is rejected before the engine runs

    private StringMatch(StringMatchKind kind, string value, Regex? regex)
    {
        Kind = kind;
        Value = value;
        _regex = regex;
        _literalPrefix = regex is null ? null : LiteralPrefix(value);
    }

    /// <summary>Gets a match for any present value.</summary>
    public static StringMatch Present { get; } = new(StringMatchKind.Present, "", null);

    /// <summary>Gets how the match compares.</summary>
    public StringMatchKind Kind { get; }

    /// <summary>Gets the text or pattern; empty for <see cref="StringMatchKind.Present"/>.</summary>
    public string Value { get; }

    /// <summary>Creates an exact match.</summary>
    /// <param name="value">The text.</param>
    /// <returns>The match.</returns>
    public static StringMatch Exact(string value) => new(StringMatchKind.Exact, Checked(value, "exact", nameof(value)), null);

    /// <summary>Creates a prefix match.</summary>
    /// <param name="value">The prefix.</param>
    /// <returns>The match.</returns>
    public static StringMatch Prefix(string value) => new(StringMatchKind.Prefix, Checked(value, "prefix", nameof(value)), null);

    /// <summary>Creates a regex match: the whole value must match <paramref name="pattern"/>.</summary>
    /// <param name="pattern">The pattern, in the RE2 syntax that .NET shares (no backreferences, no lookaround).</param>
    /// <returns>The match.</returns>
    /// <exception cref="RoutingValidationException">The pattern is not a valid regular expression.</exception>
    public static StringMatch Regex(string pattern)
    {
        Checked(pattern, "regex", nameof(pattern));

        // RE2 syntax that .NET reads differently, or refuses with an unhelpful message: said plainly instead.
        if (pattern.Contains("[[:", StringComparison.Ordinal))
        {
            throw new RoutingValidationException("regex", $"'{Shorten(pattern)}' uses a POSIX class such as [[:alpha:]], which .NET would read as a set of characters; write the class out, such as [a-zA-Z]", nameof(pattern));
        }

        if (pattern.Contains("(?P<", StringComparison.Ordinal))
        {
            throw new RoutingValidationException("regex", $"'{Shorten(pattern)}' names a group with (?P<name>...); write (?<name>...)", nameof(pattern));
        }

        try
        {
            if (!Compiled.TryGetValue(pattern, out var regex))
            {
                // \z, not $: a full match must not accept a trailing newline.
                regex = new Regex($"^(?:{pattern})\\z", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
                if (Compiled.Count < MaxCachedRegexes)
                {
                    Compiled.TryAdd(pattern, regex);
                }
            }

            return new(StringMatchKind.Regex, pattern, regex);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            // NonBacktracking refuses lookarounds and backreferences (NotSupportedException): RE2 has neither. The message
            // is the pattern's own, as written, not that of the anchored form compiled above (its offsets would be off).
            throw new RoutingValidationException("regex", $"'{Shorten(pattern)}' is not a valid regular expression: {Reason(pattern, e)}", nameof(pattern));
        }
    }

    /// <summary>Why a pattern does not compile, with offsets into the pattern as written.</summary>
    private static string Reason(string pattern, Exception wrapped)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
            return wrapped.Message;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return e.Message;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        StringMatchKind.Exact => $"exact '{Value}'",
        StringMatchKind.Prefix => $"prefix '{Value}'",
        StringMatchKind.Regex => $"regex '{Value}'",
        _ => "present",
    };

    /// <summary>Whether <paramref name="input"/> matches. <paramref name="ignoreCase"/> applies to exact and prefix only, as in Istio.</summary>
    internal bool IsMatch(ReadOnlySpan<char> input, bool ignoreCase = false)
    {
        if (input.Length > MaxInputLength)
        {
            return false;
        }

        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return Kind switch
        {
            StringMatchKind.Exact => input.Equals(Value, comparison),
            StringMatchKind.Prefix => input.StartsWith(Value, comparison),
            StringMatchKind.Regex => (_literalPrefix is null || input.StartsWith(_literalPrefix, StringComparison.Ordinal)) && _regex!.IsMatch(input),
            _ => true,
        };
    }

    /// <summary>
    /// The literal text a pattern starts with, which every full match starts with too: plain characters up to the first
    /// metacharacter, less the last one if a quantifier follows it. None for a pattern with an alternation anywhere.
    /// </summary>
    internal static string? LiteralPrefix(string pattern)
    {
        if (pattern.Contains('|', StringComparison.Ordinal))
        {
            return null;
        }

        var end = pattern.AsSpan().IndexOfAny(Metacharacters);
        end = end < 0 ? pattern.Length : end;
        if (end < pattern.Length && pattern[end] is '?' or '*' or '+' or '{')
        {
            end--; // the quantifier makes the character before it optional or repeated
        }

        return end > 0 ? pattern[..end] : null;
    }

    private static string Checked(string value, string field, string paramName)
    {
        ArgumentNullException.ThrowIfNull(value, paramName);
        return value.Length > MaxPatternLength
            ? throw new RoutingValidationException(field, $"is {value.Length} characters long; at most {MaxPatternLength} are allowed", paramName)
            : value;
    }

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
