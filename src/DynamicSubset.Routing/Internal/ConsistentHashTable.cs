using System.Numerics;
using System.Runtime.CompilerServices;

namespace DynamicSubset.Routing.Internal;

/// <summary>A stable 64-bit hash (FNV-1a over UTF-16, then a SplitMix64 finish): the same key gives the same value in every process.</summary>
internal static class StableHash
{
    public static ulong Of(ReadOnlySpan<char> text, ulong seed = 0)
    {
        var h = 14695981039346656037UL ^ seed;
        foreach (var c in text)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return Mix(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// Maps a hash onto one routable endpoint of a subset. Built once per subset, on the first hashed request, from the
/// endpoints' addresses only: the same endpoints always give the same table, in every process.
/// </summary>
internal abstract class ConsistentHashTable
{
    public abstract int Lookup(ulong hash);

    public static ConsistentHashTable Build(SlotList routable, ConsistentHashPolicy policy) =>
        policy.Algorithm == ConsistentHashAlgorithm.Maglev ? new Maglev(routable, policy.TableSize) : new Ring(routable, policy.MinimumRingSize);

    private static long MinWeight(SlotList routable)
    {
        var min = long.MaxValue;
        foreach (var slot in routable)
        {
            min = Math.Min(min, slot.Endpoint.Weight);
        }

        return Math.Max(1, min);
    }

    /// <summary>
    /// A ring of points hash(address, i). Each endpoint gets the same number of points per unit of weight whatever N is
    /// (a quarter of minimumRingSize, a power of two), so an endpoint that leaves takes its own points and no other
    /// endpoint's points move: sizing the ring to the minimum, as Envoy does, gives every endpoint more points when N
    /// drops, and those take keys from the others (removing one of 8 endpoints then moved 47% of keys). The ring holds
    /// minimumRingSize points from four endpoints up; over a million points in all, the count per endpoint halves.
    /// </summary>
    private sealed class Ring : ConsistentHashTable
    {
        private const int MaxPoints = 1 << 20;
        private readonly ulong[] _points;
        private readonly int[] _owners;

        public Ring(SlotList routable, int minimumRingSize)
        {
            var n = routable.Length;
            var perUnit = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, minimumRingSize / 4));
            while (perUnit > 1 && (long)perUnit * n > MaxPoints)
            {
                perUnit /= 2;
            }

            var minWeight = MinWeight(routable);
            var counts = new int[n];
            long total = 0;
            for (var i = 0; i < n; i++)
            {
                counts[i] = (int)Math.Min(ConsistentHashPolicy.MaximumRingSize, (long)perUnit * Math.Max(1, routable[i].Endpoint.Weight / minWeight));
                total += counts[i];
            }

            if (total > ConsistentHashPolicy.MaximumRingSize)
            {
                // Very uneven weights: scale every count down alike, keeping at least one point each.
                var scale = (double)ConsistentHashPolicy.MaximumRingSize / total;
                total = 0;
                for (var i = 0; i < n; i++)
                {
                    counts[i] = Math.Max(1, (int)(counts[i] * scale));
                    total += counts[i];
                }
            }

            _points = new ulong[total];
            _owners = new int[total];
            var k = 0;
            var longest = 0;
            foreach (var slot in routable)
            {
                longest = Math.Max(longest, slot.Endpoint.Authority.Length);
            }

            Span<char> key = new char[longest + 12];
            for (var i = 0; i < n; i++)
            {
                var address = routable[i].Endpoint.Authority.AsSpan();
                address.CopyTo(key);
                key[address.Length] = '_';
                for (var p = 0; p < counts[i]; p++)
                {
                    p.TryFormat(key[(address.Length + 1)..], out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
                    _points[k] = StableHash.Of(key[..(address.Length + 1 + written)]);
                    _owners[k++] = i;
                }
            }

            Array.Sort(_points, _owners);
        }

        public override int Lookup(ulong hash)
        {
            var i = Array.BinarySearch(_points, hash);
            if (i < 0)
            {
                i = ~i;
            }

            return _owners[i == _points.Length ? 0 : i];
        }
    }

    /// <summary>Maglev's lookup table (Eisenbud et al., 2016), with weights: each round, an endpoint fills as many slots as its weight allows.</summary>
    private sealed class Maglev : ConsistentHashTable
    {
        private readonly int[] _table;

        public Maglev(SlotList routable, int size)
        {
            var n = routable.Length;
            var offset = new long[n];
            var skip = new long[n];
            var next = new long[n];
            var weight = new long[n];
            long maxWeight = 1;
            for (var i = 0; i < n; i++)
            {
                var address = routable[i].Endpoint.Authority.AsSpan();
                offset[i] = (long)(StableHash.Of(address, seed: 0x5bd1e995) % (ulong)size);
                skip[i] = (long)(StableHash.Of(address, seed: 0x9e3779b9) % (ulong)(size - 1)) + 1;
                maxWeight = Math.Max(maxWeight, routable[i].Endpoint.Weight);
            }

            // Weights scaled to 1..1024 of the heaviest, which fills one slot every round: the rounds stay bounded by the size.
            for (var i = 0; i < n; i++)
            {
                weight[i] = Math.Max(1, (long)Math.Round(routable[i].Endpoint.Weight * 1024.0 / maxWeight));
            }

            maxWeight = 1024;

            _table = new int[size];
            Array.Fill(_table, -1);
            var filled = 0;
            for (long round = 1; filled < size; round++)
            {
                for (var i = 0; i < n && filled < size; i++)
                {
                    // Weighted: endpoint i takes a turn in a round only while its share keeps up with the heaviest's.
                    if (round * weight[i] / maxWeight == (round - 1) * weight[i] / maxWeight)
                    {
                        continue;
                    }

                    long slot;
                    do
                    {
                        slot = (offset[i] + (next[i]++ * skip[i])) % size;
                    }
                    while (_table[slot] >= 0);

                    _table[slot] = i;
                    filled++;
                }
            }
        }

        public override int Lookup(ulong hash) => _table[(int)(hash % (ulong)_table.Length)];
    }
}
