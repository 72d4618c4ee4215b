using System.Text;
using CachingGen.Runtime;
using Xunit.Abstractions;

namespace CachingGen.Tests.Runtime;

public sealed class CacheKeyTests(ITestOutputHelper output)
{
    private enum Tier : long
    {
        Free = 0,
        Gold = 7,
        Negative = -3,
    }

    [Fact]
    public void Integers_are_invariant_decimal()
    {
        Assert.Equal("p:42", CacheKey.Create("p", 42L));
        Assert.Equal("p:42", CacheKey.Create("p", 42));
        Assert.Equal("p:-9223372036854775808", CacheKey.Create("p", long.MinValue));
        Assert.Equal("p:18446744073709551615", CacheKey.Create("p", ulong.MaxValue));
        Assert.Equal(CacheKey.Create("p", 42), CacheKey.Create("p", CacheKey.Part(42L)));
    }

    [Fact]
    public void Integers_ignore_the_current_culture()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("ar-SA");
            Assert.Equal("p:-1234567", CacheKey.Create("p", -1234567L));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData("plain", "p:plain")]
    [InlineData("a:b", "p:a%3Ab")]
    [InlineData("100%", "p:100%25")]
    [InlineData("{tag}", "p:%7Btag%7D")]
    [InlineData("%3A", "p:%253A")]
    [InlineData("", "p:")]
    [InlineData("ünïcödé 日本 🙂", "p:ünïcödé 日本 🙂")]
    public void Strings_escape_separators_hash_tags_and_the_escape_character(string part, string expected)
        => Assert.Equal(expected, CacheKey.Create("p", part));

    [Fact]
    public void Guid_bool_char_and_enum_parts()
    {
        var id = Guid.Parse("0F8FAD5B-D9CB-469F-A165-70867728950E");
        Assert.Equal("p:0f8fad5b-d9cb-469f-a165-70867728950e", CacheKey.Create("p", id));
        Assert.Equal("p:true", CacheKey.Create("p", true));
        Assert.Equal("p:false", CacheKey.Create("p", false));
        Assert.Equal("%3A", CacheKey.Part(':'));
        Assert.Equal("p:7", CacheKey.Create("p", (long)Tier.Gold));
        Assert.Equal("p:-3", CacheKey.Create("p", (long)Tier.Negative));
        Assert.NotEqual(CacheKey.Create("p", (long)Tier.Free), CacheKey.Create("p", (long)Tier.Gold));
    }

    [Fact]
    public void Composite_keys_join_encoded_parts_without_collisions()
    {
        Assert.Equal("p:1:x%3Ay", CacheKey.Create("p", CacheKey.Part(1L), CacheKey.Part("x:y")));
        Assert.NotEqual(CacheKey.Create("p", CacheKey.Part("a"), CacheKey.Part("b:c")), CacheKey.Create("p", CacheKey.Part("a:b"), CacheKey.Part("c")));
        Assert.NotEqual(CacheKey.Create("p", CacheKey.Part("a:b")), CacheKey.Create("p", CacheKey.Part("a"), CacheKey.Part("b")));
    }

    [Fact]
    public void Null_string_part_is_a_clear_error()
    {
        var error = Assert.Throws<ArgumentNullException>(() => CacheKey.Create("p", (string)null!));
        Assert.Contains("must not be null", error.Message);
    }

    [Fact]
    public void Random_strings_never_collide_and_never_forge_separators()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        const string alphabet = "ab:%{}3A7BD%:é日🙂 \0";
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var composite = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        for (var i = 0; i < 20_000; i++)
        {
            var first = RandomString(random, alphabet);
            var second = RandomString(random, alphabet);
            var key = CacheKey.Create("p", first);
            Assert.DoesNotContain(':', key.AsSpan(2).ToString());
            Assert.DoesNotContain('{', key);
            Assert.DoesNotContain('}', key);
            Assert.Equal(first, Unescape(key[2..]));
            if (seen.TryGetValue(key, out var previous))
            {
                Assert.Equal(previous, first);
            }

            seen[key] = first;

            var pair = CacheKey.Create("p", CacheKey.Part(first), CacheKey.Part(second));
            if (composite.TryGetValue(pair, out var previousPair))
            {
                Assert.Equal(previousPair, (first, second));
            }

            composite[pair] = (first, second);
        }
    }

    [Fact]
    public void CacheKeys_Of_keeps_order_for_lists_and_sequences()
    {
        var list = new[] { 3L, 1L, 2L };
        Assert.Equal(new[] { "p:3", "p:1", "p:2" }, CacheKeys.Of<long>(list, static id => CacheKey.Create("p", id)));
        Assert.Equal(new[] { "p:3", "p:1", "p:2" }, CacheKeys.Of(list.Select(x => x), static id => CacheKey.Create("p", id)));
        Assert.Empty(CacheKeys.Of<long>(Array.Empty<long>(), static id => CacheKey.Create("p", id)));
    }

    private static string RandomString(Random random, string alphabet)
    {
        var runes = alphabet.EnumerateRunes().ToArray();
        var length = random.Next(0, 8);
        var builder = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            builder.Append(runes[random.Next(runes.Length)].ToString());
        }

        return builder.ToString();
    }

    private static string Unescape(string encoded)
        => encoded.Replace("%3A", ":").Replace("%7B", "{").Replace("%7D", "}").Replace("%25", "%");
}
