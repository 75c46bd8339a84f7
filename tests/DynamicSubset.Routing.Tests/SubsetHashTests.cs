using System.Globalization;
using DynamicSubset.Routing.Internal;

namespace DynamicSubset.Routing.Tests;

/// <summary>The subset hash is our own (not Marvin), so its spread over the slots of a table is tested here.</summary>
public class SubsetHashTests
{
    /// <summary>
    /// 65,536 pod IPs into the 131,072 slots of a half-full table: a random function fills about 78.7% as many
    /// distinct slots as there are values. A hash whose low bits ignore some bytes fills far fewer.
    /// </summary>
    [Fact]
    public void SequentialIps_SpreadOverTheLowBits_LikeARandomFunction()
    {
        const int count = 65_536;
        const int mask = (count * 2) - 1;
        var slots = new HashSet<int>();
        for (var i = 0; i < count; i++)
        {
            var ip = string.Create(CultureInfo.InvariantCulture, $"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}");
            slots.Add(SubsetHash.Of(ip.AsSpan()) & mask);
        }

        Assert.InRange(slots.Count, count * 0.76, count * 0.82);
    }

    [Theory]
    [InlineData("v1", "v2")]
    [InlineData("prod", "prod ")]
    [InlineData("", "a")]
    [InlineData("abcdefgh", "abcdefgi")]
    [InlineData("abcdefghij", "abcdefghik")]
    public void ValuesThatDifferInOneChar_HashApart(string a, string b) =>
        Assert.NotEqual(SubsetHash.Of(a.AsSpan()), SubsetHash.Of(b.AsSpan()));

    [Fact]
    public void HashIsTheSameForAStringAndTheSameCharsInABuffer()
    {
        var buffer = "xx prod xx".ToCharArray();
        Assert.Equal(SubsetHash.Of("prod".AsSpan()), SubsetHash.Of(buffer.AsSpan(3, 4)));
    }
}
