using System.Globalization;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Istio's durations, as its YAML writes them: <c>10s</c>, <c>1.5s</c>, <c>250ms</c>, <c>1m</c>, <c>1h30m</c>.</summary>
public static class MeshDurations
{
    /// <summary>Parses a duration: one or more numbers, each with a unit of <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c>, <c>us</c> or <c>ns</c>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="duration">The duration.</param>
    /// <returns><see langword="true"/> if the text is a non-negative duration of at most a year.</returns>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        var span = text.AsSpan();
        double total = 0;
        while (!span.IsEmpty)
        {
            var number = 0;
            while (number < span.Length && (char.IsAsciiDigit(span[number]) || span[number] == '.'))
            {
                number++;
            }

            var unit = number;
            while (unit < span.Length && char.IsAsciiLetterLower(span[unit]))
            {
                unit++;
            }

            if (number == 0 || !double.TryParse(span[..number], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            double? scale = span[number..unit] switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "us" => TimeSpan.TicksPerMicrosecond,
                "ns" => 0.01,
                _ => null,
            };
            if (scale is null)
            {
                return false;
            }

            total += value * scale.Value;
            span = span[unit..];
        }

        if (total > TimeSpan.TicksPerDay * 366.0)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)total);
        return true;
    }

    /// <summary>
    /// A configured duration as both readers (YAML and options) accept it: at least 1 ms, or exactly 0 where
    /// <paramref name="allowZero"/> (Istio's "no bound").
    /// </summary>
    internal static bool TryParseConfigured(string text, bool allowZero, out TimeSpan duration) =>
        TryParse(text, out duration) && (duration >= TimeSpan.FromMilliseconds(1) || (allowZero && duration == TimeSpan.Zero));

    /// <summary>The one message for a duration that <see cref="TryParseConfigured"/> refused; the text is cut short.</summary>
    internal static string Invalid(string text, bool allowZero) =>
        $"'{Yaml.DocumentReader.Shorten(text)}' is not a duration of {(allowZero ? "0 or " : "")}at least 1ms (for example 10s, 250ms, 1m)";
}
