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
    public static int Next(int maxExclusive)
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

        // Lemire's multiply-shift maps the high 32 bits onto the range without a division.
        return (int)(((x >> 32) * (ulong)(uint)maxExclusive) >> 32);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Seed() => (ulong)Random.Shared.NextInt64() | 1;
}
