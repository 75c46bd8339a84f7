using System.Runtime.CompilerServices;

namespace DynamicSubset.Routing.Internal;

/// <summary>
/// A per-thread xorshift generator for picks when the caller injects no <see cref="Random"/>: no lock, no
/// shared state, no virtual call. Not for anything that needs unpredictability.
/// </summary>
internal static class FastRandom
{
    [ThreadStatic]
    private static ulong t_state;

    /// <summary>Returns a value in [0, <paramref name="maxExclusive"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Next(int maxExclusive) => Scale((uint)(NextBits() >> 32), maxExclusive);

    /// <summary>Returns a value in [0, <paramref name="maxExclusive"/>), for weight totals beyond 32 bits.</summary>
    public static long NextInt64(long maxExclusive) => (long)(((UInt128)NextBits() * (ulong)maxExclusive) >> 64);

    /// <summary>
    /// Returns two distinct values in [0, <paramref name="count"/>) from one draw, without a division: the first
    /// uniform, the second uniform among the others. <paramref name="count"/> must be at least 2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (int First, int Second) NextPair(int count)
    {
        var x = NextBits();
        var first = Scale((uint)(x >> 32), count);
        var second = first + 1 + Scale((uint)x, count - 1);
        return (first, second >= count ? second - count : second);
    }

    /// <summary>Lemire's multiply-shift: maps 32 random bits onto [0, <paramref name="maxExclusive"/>) without a division.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Scale(uint bits, int maxExclusive) => (int)((bits * (ulong)(uint)maxExclusive) >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NextBits()
    {
        var x = t_state;
        if (x == 0)
        {
            x = Seed();
        }

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t_state = x;
        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Seed() => (ulong)Random.Shared.NextInt64() | 1;
}
