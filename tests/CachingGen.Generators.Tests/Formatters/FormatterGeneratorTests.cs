using System.Globalization;
using System.Text.RegularExpressions;
using CachingGen.Generators.Common;
using CachingGen.Generators.Formatters;
using CachingGen.Generators.Tests.Infrastructure;
using MessagePack;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Formatters;

public sealed class FormatterGeneratorTests
{
    private static IIncrementalGenerator[] Generators => new IIncrementalGenerator[] { new FormatterGenerator() };

    private static GeneratorResult RunRich() => GeneratorHarness.Run(Generators, Samples.Rich, Samples.RichHelpers).AssertCleanGeneratedCode();

    [Fact]
    public void Canonical_sample_snapshots()
    {
        var result = GeneratorHarness.Run(Generators, Samples.Preference).AssertCleanGeneratedCode();
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Equal(new[] { "CachingGenFormatterResolver.g.cs", "Sample_Preference.Formatter.g.cs" }, result.Sources.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (hintName, source) in result.Sources)
        {
            Snapshot.Verify("Canonical." + hintName.Replace(".g.cs", string.Empty), source);
        }
    }

    [Fact]
    public void Rich_sample_snapshots()
    {
        var result = RunRich();
        Assert.Empty(result.GeneratorDiagnostics);
        var expected = new[]
        {
            "CachingGenFormatterResolver.g.cs",
            "Sample_Address.Formatter.g.cs",
            "Sample_Counter.Formatter.g.cs",
            "Sample_Flags.Formatter.g.cs",
            "Sample_GeoPoint.Formatter.g.cs",
            "Sample_Keyed.Formatter.g.cs",
            "Sample_Node.Formatter.g.cs",
            "Sample_Page_Sample_Preference.Formatter.g.cs",
            "Sample_Preference.Formatter.g.cs",
            "Sample_Profile.Formatter.g.cs",
            "Sample_Settings.Formatter.g.cs",
            "Sample_Tag.Formatter.g.cs",
            "Sample_Tier.Formatter.g.cs",
        };
        Assert.Equal(expected, result.Sources.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (hintName, source) in result.Sources)
        {
            Snapshot.Verify("Rich." + hintName.Replace(".g.cs", string.Empty), source);
        }
    }

    [Fact]
    public void Types_shared_by_several_repositories_get_one_formatter()
    {
        var second = """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using CachingGen;
            namespace Sample;
            [CachedRepository]
            public interface IAuditRepository
            {
                [Cached] Task<List<Preference>> RecentAsync(int count);
                [WriteBack] Task AppendAsync(Preference preference, long at);
            }
            """;
        var result = GeneratorHarness.Run(Generators, Samples.Preference, second).AssertCleanGeneratedCode();
        Assert.Equal(
            new[] { "CachingGenFormatterResolver.g.cs", "Sample_Preference.Formatter.g.cs" },
            result.Sources.Keys.OrderBy(k => k, StringComparer.Ordinal));
        var resolver = result.Sources["CachingGenFormatterResolver.g.cs"];
        Assert.Contains("new global::MessagePack.Formatters.ListFormatter<global::Sample.Preference>()", resolver, StringComparison.Ordinal);
        Assert.Contains("new global::MessagePack.Formatters.InterfaceReadOnlyListFormatter<global::Sample.Preference>()", resolver, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(resolver, Regex.Escape("typeof(global::Sample.Preference)")));
    }

    [Fact]
    public void No_repository_means_no_output()
    {
        var result = GeneratorHarness.Run(Generators, "namespace A; public sealed class B { }").AssertCleanGeneratedCode();
        Assert.Empty(result.Sources);
    }

    [Fact]
    public void Repository_without_strategy_methods_still_gets_the_resolver()
    {
        var result = GeneratorHarness.Run(Generators, """
            using System.Threading.Tasks;
            namespace A;
            [CachingGen.CachedRepository] public interface IEmpty { Task<int> CountAsync(); }
            public static class Use { public static MessagePack.MessagePackSerializerOptions O => CachingGen.Generated.CachingGenFormatterResolver.Options; }
            """).AssertCleanGeneratedCode();
        Assert.Equal(new[] { "CachingGenFormatterResolver.g.cs" }, result.Sources.Keys);
    }

    [Fact]
    public void Canonical_sample_round_trips()
    {
        var result = GeneratorHarness.Run(Generators, Samples.Preference, """
            namespace Sample;
            public static class Check
            {
                public static string Run()
                {
                    var value = new Preference(42, "email", true, 7);
                    var bytes = MessagePack.MessagePackSerializer.Serialize(value, CachingGen.Generated.CachingGenFormatterResolver.Options);
                    var back = MessagePack.MessagePackSerializer.Deserialize<Preference>(bytes, CachingGen.Generated.CachingGenFormatterResolver.Options);
                    var list = MessagePack.MessagePackSerializer.Deserialize<System.Collections.Generic.IReadOnlyList<Preference>>(
                        MessagePack.MessagePackSerializer.Serialize<System.Collections.Generic.IReadOnlyList<Preference>>(new[] { value, value }, CachingGen.Generated.CachingGenFormatterResolver.Options),
                        CachingGen.Generated.CachingGenFormatterResolver.Options);
                    return back == value && list.Count == 2 && list[1] == value ? "ok" : "mismatch: " + back;
                }
            }
            """).AssertCleanGeneratedCode();
        using var loaded = result.EmitAndLoad();
        Assert.Equal("ok", loaded.Invoke("Sample.Check", "Run", null));
    }

    [Fact]
    public void Resolver_of_more_types_than_one_switch_block_finds_every_formatter_and_fingerprint()
    {
        // The resolver creates formatters through blocks of 64 entries (one switch over every type costs the compiler
        // quadratic time): 150 entity types span three blocks, the last one partial.
        const int count = 150;
        var source = new System.Text.StringBuilder("""
            using System.Threading;
            using System.Threading.Tasks;
            using CachingGen;
            namespace Many;

            """);
        var checks = new System.Text.StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            source.Append("public sealed record Entity").Append(n).Append("([property: CacheKey] long Id, int Value);\n")
                .Append("[CachedRepository] public interface IRepository").Append(n)
                .Append(" { [Cached] ValueTask<Entity").Append(n).Append("?> GetAsync(long id, CancellationToken ct = default); }\n");
            checks.Append("        failures += RoundTrip(new Entity").Append(n).Append("(").Append(n).Append(", ").Append(n).Append(" * 7), CachingGen.Generated.Formatters.Many_Entity").Append(n).Append("Formatter.SchemaFingerprint);\n");
        }

        source.Append("""
            public static class Check
            {
                public static string Run()
                {
                    var failures = string.Empty;

            """).Append(checks).Append("""
                    return failures.Length == 0 ? "ok" : failures;
                }

                private static string RoundTrip<T>(T value, ulong fingerprint)
                {
                    var options = CachingGen.Generated.CachingGenFormatterResolver.Options;
                    var back = MessagePack.MessagePackSerializer.Deserialize<T>(MessagePack.MessagePackSerializer.Serialize(value, options), options);
                    var found = CachingGen.Generated.CachingGenFormatterResolver.Instance.GetSchemaFingerprint<T>();
                    return Equals(back, value) && found == fingerprint ? string.Empty : typeof(T).Name + ": " + back + ", fingerprint " + found + " (expected " + fingerprint + "); ";
                }
            }
            """);

        var result = GeneratorHarness.Run(Generators, source.ToString()).AssertCleanGeneratedCode();
        using var loaded = result.EmitAndLoad();
        Assert.Equal("ok", loaded.Invoke("Many.Check", "Run", null));
    }

    [Fact]
    public void Options_resolver_is_the_fingerprint_provider_the_runtime_looks_for()
    {
        // EntityCache reads the schema fingerprint through SerializerOptions.Resolver; a composite around the generated
        // resolver would hide it and every entry would carry fingerprint 0 (no protection across schema changes).
        var result = GeneratorHarness.Run(Generators, Samples.Preference, """
            namespace Sample;
            public static class Check
            {
                public static string Run()
                {
                    var options = CachingGen.Generated.CachingGenFormatterResolver.Options;
                    if (options.Resolver is not CachingGen.Serialization.ISchemaFingerprintProvider provider)
                    {
                        return "the options' resolver is " + options.Resolver.GetType().Name;
                    }

                    var fingerprint = provider.GetSchemaFingerprint<Preference>();
                    var builtin = MessagePack.MessagePackSerializer.Deserialize<string>(MessagePack.MessagePackSerializer.Serialize("text", options), options);
                    return fingerprint != 0 && fingerprint == CachingGen.Generated.CachingGenFormatterResolver.Instance.GetSchemaFingerprint<Preference>() && builtin == "text"
                        ? "ok"
                        : "fingerprint " + fingerprint + ", built-in round trip " + builtin;
                }
            }
            """).AssertCleanGeneratedCode();
        using var loaded = result.EmitAndLoad();
        Assert.Equal("ok", loaded.Invoke("Sample.Check", "Run", null));
    }

    [Fact]
    public void Every_leaf_type_is_written_by_messagepacks_own_formatter_without_its_builtin_resolver()
    {
        // The generator generates nothing for leaf types; the resolver falls back to BuiltinLeafFormatters for them.
        // A leaf the generator knows and the runtime does not would throw FormatterNotRegisteredException here, and a
        // different formatter would write other bytes than MessagePack's StandardResolver.
        var result = GeneratorHarness.Run(Generators, """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using CachingGen;
            using MessagePack;
            namespace Leaves;

            [MessagePackObject]
            public sealed class AllLeaves
            {
                [Key(0)] [CacheKey] public long Id { get; set; }
                [Key(1)] public bool Bool { get; set; }
                [Key(2)] public char Char { get; set; }
                [Key(3)] public sbyte SByte { get; set; }
                [Key(4)] public byte Byte { get; set; }
                [Key(5)] public short Int16 { get; set; }
                [Key(6)] public ushort UInt16 { get; set; }
                [Key(7)] public int Int32 { get; set; }
                [Key(8)] public uint UInt32 { get; set; }
                [Key(9)] public ulong UInt64 { get; set; }
                [Key(10)] public float Single { get; set; }
                [Key(11)] public double Double { get; set; }
                [Key(12)] public decimal Decimal { get; set; }
                [Key(13)] public string? String { get; set; }
                [Key(14)] public DateTime DateTime { get; set; }
                [Key(15)] public byte[]? Bytes { get; set; }
                [Key(16)] public Guid Guid { get; set; }
                [Key(17)] public DateTimeOffset DateTimeOffset { get; set; }
                [Key(18)] public TimeSpan TimeSpan { get; set; }
                [Key(19)] public DateOnly DateOnly { get; set; }
                [Key(20)] public TimeOnly TimeOnly { get; set; }
                [Key(21)] public Uri? Uri { get; set; }
                [Key(22)] public Version? Version { get; set; }
                [Key(23)] public System.Numerics.BigInteger BigInteger { get; set; }
                [Key(24)] public System.Numerics.Complex Complex { get; set; }
                [Key(25)] public System.Text.StringBuilder? StringBuilder { get; set; }
                [Key(26)] public System.Collections.BitArray? BitArray { get; set; }
            }

            [CachedRepository]
            public interface IAllLeavesRepository
            {
                [Cached] ValueTask<AllLeaves?> GetAsync(long id, CancellationToken ct = default);
            }

            public static class Check
            {
                public static string Run()
                {
                    var value = new AllLeaves
                    {
                        Id = 7, Bool = true, Char = 'x', SByte = -3, Byte = 200, Int16 = -300, UInt16 = 60000, Int32 = -70000,
                        UInt32 = 4000000000, UInt64 = ulong.MaxValue, Single = 1.5f, Double = -2.25, Decimal = 12.345m,
                        String = "text", DateTime = new DateTime(2026, 11, 27, 8, 0, 0, DateTimeKind.Utc), Bytes = new byte[] { 1, 2, 3 },
                        Guid = new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"), DateTimeOffset = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.FromHours(1)),
                        TimeSpan = TimeSpan.FromMinutes(90), DateOnly = new DateOnly(2026, 11, 27), TimeOnly = new TimeOnly(8, 30),
                        Uri = new Uri("https://example.com/a"), Version = new Version(1, 2, 3), BigInteger = System.Numerics.BigInteger.Pow(10, 30),
                        Complex = new System.Numerics.Complex(1, -1), StringBuilder = new System.Text.StringBuilder("built"),
                        BitArray = new System.Collections.BitArray(new[] { true, false, true }),
                    };
                    var ours = MessagePackSerializer.Serialize(value, CachingGen.Generated.CachingGenFormatterResolver.Options);
                    var standard = MessagePackSerializer.Serialize(value, MessagePack.Resolvers.StandardResolver.Options);
                    if (!ours.AsSpan().SequenceEqual(standard))
                    {
                        return "bytes differ: " + Convert.ToHexString(ours) + " vs " + Convert.ToHexString(standard);
                    }

                    var back = MessagePackSerializer.Deserialize<AllLeaves>(ours, CachingGen.Generated.CachingGenFormatterResolver.Options);
                    var again = MessagePackSerializer.Serialize(back, CachingGen.Generated.CachingGenFormatterResolver.Options);
                    return again.AsSpan().SequenceEqual(ours) ? "ok" : "the round trip changed the bytes";
                }
            }
            """).AssertCleanGeneratedCode();
        using var loaded = result.EmitAndLoad();
        Assert.Equal("ok", loaded.Invoke("Leaves.Check", "Run", null));
    }

    [Fact]
    public void Every_type_the_generator_leaves_to_the_runtime_has_messagepacks_own_formatter_there()
    {
        // FormatterParser.IsBuiltinLeaf decides which types get no formatter of their own; BuiltinLeafFormatters must
        // then have exactly the formatter MessagePack's BuiltinResolver would use. Candidates: every public non-generic
        // type of the assemblies those leaves live in.
        var compilation = GeneratorHarness.CreateCompilation("namespace Probe { public sealed class Empty { } }");
        var assemblies = new[] { typeof(object).Assembly, typeof(Uri).Assembly, typeof(System.Numerics.BigInteger).Assembly, typeof(System.Collections.BitArray).Assembly };
        var leaves = new List<Type>();
        foreach (var type in assemblies.Distinct().SelectMany(a => a.GetExportedTypes()).Where(t => !t.IsGenericType && !t.IsNested).Distinct())
        {
            if (compilation.GetTypeByMetadataName(type.FullName!) is { } symbol && FormatterParser.IsBuiltinLeaf(symbol))
            {
                leaves.Add(type);
            }
        }

        var byteArray = compilation.CreateArrayTypeSymbol(compilation.GetSpecialType(Microsoft.CodeAnalysis.SpecialType.System_Byte));
        Assert.True(FormatterParser.IsBuiltinLeaf(byteArray));
        leaves.Add(typeof(byte[]));
        Assert.Contains(typeof(string), leaves);
        Assert.Contains(typeof(System.Collections.BitArray), leaves);
        Assert.Contains(typeof(System.Numerics.Complex), leaves);
        Assert.True(leaves.Count == 27, "leaves: " + string.Join(", ", leaves.Select(l => l.FullName)));

        var get = typeof(CachingGen.Serialization.BuiltinLeafFormatters).GetMethod(nameof(CachingGen.Serialization.BuiltinLeafFormatters.Get))!;
        var builtin = typeof(MessagePack.IFormatterResolver).GetMethod(nameof(MessagePack.IFormatterResolver.GetFormatter))!;
        foreach (var leaf in leaves)
        {
            var ours = get.MakeGenericMethod(leaf).Invoke(null, null);
            var theirs = builtin.MakeGenericMethod(leaf).Invoke(MessagePack.Resolvers.BuiltinResolver.Instance, null);
            Assert.True(ours is not null, leaf + " is a leaf to the generator but BuiltinLeafFormatters has no formatter for it");
            Assert.Equal(theirs!.GetType(), ours.GetType());
        }
    }

    [Fact]
    public void Dictionaries_keyed_by_every_accepted_key_type_round_trip_under_untrusted_data_security()
    {
        var result = GeneratorHarness.Run(Generators, """
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using CachingGen;
            using MessagePack;
            namespace Keys;

            public enum Small : byte { A, B }
            public enum Normal { A, B }

            public sealed class Keyed
            {
                [CacheKey] public long Id { get; set; }
                public Dictionary<string, int> ByString { get; set; } = new() { ["a"] = 1 };
                public Dictionary<bool, int> ByBool { get; set; } = new() { [true] = 1 };
                public Dictionary<char, int> ByChar { get; set; } = new() { ['c'] = 1 };
                public Dictionary<sbyte, int> BySByte { get; set; } = new() { [-1] = 1 };
                public Dictionary<byte, int> ByByte { get; set; } = new() { [1] = 1 };
                public Dictionary<short, int> ByInt16 { get; set; } = new() { [-2] = 1 };
                public Dictionary<ushort, int> ByUInt16 { get; set; } = new() { [2] = 1 };
                public Dictionary<int, int> ByInt32 { get; set; } = new() { [-3] = 1 };
                public Dictionary<uint, int> ByUInt32 { get; set; } = new() { [3] = 1 };
                public Dictionary<long, int> ByInt64 { get; set; } = new() { [-4] = 1 };
                public IDictionary<ulong, int> ByUInt64 { get; set; } = new Dictionary<ulong, int> { [4] = 1 };
                public Dictionary<float, int> BySingle { get; set; } = new() { [1.5f] = 1 };
                public Dictionary<double, int> ByDouble { get; set; } = new() { [2.5] = 1 };
                public Dictionary<Guid, int> ByGuid { get; set; } = new() { [Guid.Empty] = 1 };
                public Dictionary<DateTime, int> ByDateTime { get; set; } = new() { [new DateTime(2026, 11, 27, 0, 0, 0, DateTimeKind.Utc)] = 1 };
                public IReadOnlyDictionary<DateTimeOffset, int> ByDateTimeOffset { get; set; } = new Dictionary<DateTimeOffset, int> { [new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero)] = 1 };
                public Dictionary<Small, int> BySmallEnum { get; set; } = new() { [Small.B] = 1 };
                public Dictionary<Normal, int> ByEnum { get; set; } = new() { [Normal.B] = 1 };
            }

            [CachedRepository]
            public interface IKeyedRepository
            {
                [Cached] ValueTask<Keyed?> GetAsync(long id, CancellationToken ct = default);
            }

            public static class Check
            {
                public static string Run()
                {
                    var options = CachingGen.Generated.CachingGenFormatterResolver.Options;
                    if (!options.Security.HashCollisionResistant)
                    {
                        return "the generated options do not use untrusted-data security";
                    }

                    var bytes = MessagePackSerializer.Serialize(new Keyed { Id = 1 }, options);
                    var back = MessagePackSerializer.Deserialize<Keyed>(bytes, options);
                    return MessagePackSerializer.Serialize(back, options).AsSpan().SequenceEqual(bytes) ? "ok" : "the round trip changed the bytes";
                }
            }
            """).AssertCleanGeneratedCode();
        using var loaded = result.EmitAndLoad();
        Assert.Equal("ok", loaded.Invoke("Keys.Check", "Run", null));
    }

    [Fact]
    public void Rich_sample_values_survive_round_trip()
    {
        using var loaded = RunRich().EmitAndLoad();
        foreach (var (factory, typeName) in RichValues(loaded))
        {
            var value = loaded.Invoke("Sample.Values", factory, null);
            var type = typeName;
            var bytes = (byte[])loaded.Invoke("Sample.Io", "Serialize", new[] { type }, value)!;
            var back = loaded.Invoke("Sample.Io", "Deserialize", new[] { type }, bytes);
            Assert.NotNull(back);
            var again = (byte[])loaded.Invoke("Sample.Io", "Serialize", new[] { type }, back)!;
            Assert.Equal(bytes, again);
        }

        // Spot checks through the object model.
        var profileType = loaded.GetType("Sample.Profile");
        var profile = loaded.Invoke("Sample.Io", "Deserialize", new[] { profileType },
            loaded.Invoke("Sample.Io", "Serialize", new[] { profileType }, loaded.Invoke("Sample.Values", "Profile", null)))!;
        Assert.Equal("Ada", profileType.GetProperty("Name")!.GetValue(profile));
        Assert.Null(profileType.GetProperty("Nickname")!.GetValue(profile));
        Assert.Equal(12.34m, profileType.GetProperty("Balance")!.GetValue(profile));
        Assert.Equal("Pro", profileType.GetProperty("Tier")!.GetValue(profile)!.ToString());
        Assert.Equal(new byte[] { 1, 2, 3 }, (byte[])profileType.GetProperty("Avatar")!.GetValue(profile)!);
        Assert.Equal(new[] { long.MinValue, 0, long.MaxValue }, (long[])profileType.GetProperty("Numbers")!.GetValue(profile)!);

        var settingsType = loaded.GetType("Sample.Settings");
        var settings = loaded.Invoke("Sample.Io", "Deserialize", new[] { settingsType },
            loaded.Invoke("Sample.Io", "Serialize", new[] { settingsType }, loaded.Invoke("Sample.Values", "Settings", null)))!;
        Assert.Equal("dark", settingsType.GetProperty("Theme")!.GetValue(settings));
        Assert.Equal(14, settingsType.GetProperty("FontSize")!.GetValue(settings));

        var keyedType = loaded.GetType("Sample.Keyed");
        var keyed = loaded.Invoke("Sample.Io", "Deserialize", new[] { keyedType },
            loaded.Invoke("Sample.Io", "Serialize", new[] { keyedType }, loaded.Invoke("Sample.Values", "Keyed", null)))!;
        Assert.Equal("five", keyedType.GetProperty("Name")!.GetValue(keyed));
        Assert.Equal(new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc), keyedType.GetProperty("Stamp")!.GetValue(keyed));
        Assert.Equal("ignored", keyedType.GetProperty("Ignored")!.GetValue(keyed));
    }

    [Fact]
    public void Keyed_type_has_the_same_bytes_as_MessagePack_StandardResolver()
    {
        // Not collectible: MessagePack's dynamic resolver (used here only as the reference) cannot see collectible types.
        using var loaded = RunRich().EmitAndLoad(collectible: false);
        var keyedType = loaded.GetType("Sample.Keyed");
        var value = loaded.Invoke("Sample.Values", "Keyed", null);
        var ours = (byte[])loaded.Invoke("Sample.Io", "Serialize", new[] { keyedType }, value)!;
        var standard = (byte[])loaded.Invoke("Sample.Io", "SerializeStandard", new[] { keyedType }, value)!;
        Assert.Equal(standard, ours);
        Assert.Equal(0x95, ours[0]); // array of 5: keys 0..4, key 1 is a nil gap, key 4 a DateTime written inline
        Assert.Equal(0xC0, ours[2]);
    }

    [Fact]
    public void No_dynamic_resolver_is_reachable()
    {
        using var loaded = RunRich().EmitAndLoad();
        var unrelated = loaded.GetType("Sample.Unrelated");
        Assert.Null(loaded.Invoke("Sample.Io", "Formatter", new[] { unrelated }));
        Assert.Null(loaded.Invoke("Sample.Io", "Formatter", new[] { typeof(object) }));
        Assert.Null(loaded.Invoke("Sample.Io", "Formatter", new[] { typeof(HashSet<int>) }));
        Assert.Throws<MessagePackSerializationException>(() => loaded.Invoke("Sample.Io", "Serialize", new[] { unrelated }, Activator.CreateInstance(unrelated)));

        var options = (MessagePackSerializerOptions)loaded.Invoke("Sample.Io", "get_Options", null)!;
        Assert.Equal(MessagePackSecurity.UntrustedData.MaximumObjectGraphDepth, options.Security.MaximumObjectGraphDepth);
        Assert.True(options.Security.HashCollisionResistant);

        foreach (var (_, type) in RichValues(loaded))
        {
            var formatter = loaded.Invoke("Sample.Io", "Formatter", new[] { type });
            Assert.NotNull(formatter);
            var formatterType = formatter!.GetType();
            Assert.False(formatterType.Assembly.IsDynamic, formatterType.FullName);
            Assert.True(
                formatterType.Namespace == "CachingGen.Generated.Formatters" || formatterType.Namespace == "MessagePack.Formatters",
                formatterType.FullName);
        }
    }

    [Fact]
    public void Generated_and_constructed_formatters_cover_every_shape_used()
    {
        using var loaded = RunRich().EmitAndLoad();
        var profile = loaded.GetType("Sample.Profile");
        var address = loaded.GetType("Sample.Address");
        var tier = loaded.GetType("Sample.Tier");
        var geo = loaded.GetType("Sample.GeoPoint");
        Type[] shapes =
        {
            typeof(List<string>), typeof(string[]), typeof(IReadOnlyList<>).MakeGenericType(address), typeof(Dictionary<string, int>),
            typeof(IReadOnlyDictionary<,>).MakeGenericType(typeof(string), address), typeof(Nullable<>).MakeGenericType(geo),
            typeof(Nullable<>).MakeGenericType(tier), typeof(long[]), typeof(IEnumerable<>).MakeGenericType(tier),
            typeof(IDictionary<int, List<string>>), typeof(int?), typeof(ICollection<int>), typeof(IReadOnlyCollection<string>),
            typeof(IList<>).MakeGenericType(geo), profile, address, tier, geo,
        };
        foreach (var shape in shapes)
        {
            Assert.True((bool)loaded.Invoke("Sample.Io", "IsGenerated", null, shape)!, shape.ToString());
            Assert.NotNull(loaded.Invoke("Sample.Io", "OwnFormatter", new[] { shape }));
            Assert.NotEqual(0UL, (ulong)loaded.Invoke("Sample.Io", "Fingerprint", new[] { shape })!);
        }

        Assert.False((bool)loaded.Invoke("Sample.Io", "IsGenerated", null, typeof(byte[]))!);
        Assert.Equal(0UL, (ulong)loaded.Invoke("Sample.Io", "Fingerprint", new[] { loaded.GetType("Sample.Unrelated") })!);
    }

    [Fact]
    public void Deep_nesting_of_untrusted_data_throws_instead_of_overflowing_the_stack()
    {
        using var loaded = RunRich().EmitAndLoad();
        var node = loaded.GetType("Sample.Node");
        var bytes = NestedNodes(100_000);
        var exception = Assert.ThrowsAny<Exception>(() => loaded.Invoke("Sample.Io", "Deserialize", new[] { node }, bytes));
        Assert.IsType<MessagePackSerializationException>(exception);

        // Within the limit it works.
        Assert.NotNull(loaded.Invoke("Sample.Io", "Deserialize", new[] { node }, NestedNodes(100)));
    }

    [Fact]
    public void Member_formatters_kept_from_this_assemblys_resolver_do_not_replace_another_resolvers()
    {
        // Closed over ours first, so the Profile formatter has kept our Address formatter; a composite resolver
        // that brings its own Address formatter must still get it for every Address member.
        using var loaded = RunRich().EmitAndLoad();
        var profileType = loaded.GetType("Sample.Profile");
        var profile = loaded.Invoke("Sample.Values", "Profile", null);
        var ours = (byte[])loaded.Invoke("Sample.Io", "Serialize", new[] { profileType }, profile)!;
        var back = loaded.Invoke("Sample.Io", "Deserialize", new[] { profileType }, ours)!;
        Assert.Equal("Home St", Street(profileType.GetProperty("Home")!.GetValue(back)!));

        var shouted = (byte[])loaded.Invoke("Sample.Io", "SerializeWithShoutingAddresses", new[] { profileType }, profile)!;
        back = loaded.Invoke("Sample.Io", "Deserialize", new[] { profileType }, shouted)!;
        Assert.Equal("HOME ST", Street(profileType.GetProperty("Home")!.GetValue(back)!));

        // And ours again: the composite's formatter was not kept either.
        back = loaded.Invoke("Sample.Io", "Deserialize", new[] { profileType }, (byte[])loaded.Invoke("Sample.Io", "Serialize", new[] { profileType }, profile)!)!;
        Assert.Equal("Home St", Street(profileType.GetProperty("Home")!.GetValue(back)!));

        static string Street(object address) => (string)address.GetType().GetProperty("Street")!.GetValue(address)!;
    }

    [Fact]
    public void Trailing_members_are_skipped_and_missing_members_get_defaults()
    {
        using var loaded = RunRich().EmitAndLoad();
        var preference = loaded.GetType("Sample.Preference");

        var longer = Write(w =>
        {
            w.WriteArrayHeader(6);
            w.Write(7L);
            w.Write("sms");
            w.Write(true);
            w.Write(3L);
            w.Write("added later");
            w.WriteArrayHeader(1);
            w.Write(1);
        });
        var value = loaded.Invoke("Sample.Io", "Deserialize", new[] { preference }, longer)!;
        Assert.Equal(7L, preference.GetProperty("UserId")!.GetValue(value));
        Assert.Equal(3L, preference.GetProperty("Version")!.GetValue(value));

        var shorter = Write(w =>
        {
            w.WriteArrayHeader(2);
            w.Write(9L);
            w.Write("push");
        });
        value = loaded.Invoke("Sample.Io", "Deserialize", new[] { preference }, shorter)!;
        Assert.Equal(9L, preference.GetProperty("UserId")!.GetValue(value));
        Assert.Equal(false, preference.GetProperty("Enabled")!.GetValue(value));
        Assert.Equal(0L, preference.GetProperty("Version")!.GetValue(value));

        var nil = Write(w => w.WriteNil());
        Assert.Null(loaded.Invoke("Sample.Io", "Deserialize", new[] { preference }, nil));
    }

    [Fact]
    public void Unrelated_edit_keeps_every_step_cached()
    {
        IncrementalAssert.CachedAfterUnrelatedEdit(Generators, TrackingNames.All, Samples.Rich);
    }

    [Fact]
    public void Real_edit_modifies_the_pipeline()
    {
        var after = Samples.Rich.Replace("public sealed record Tag(string Name);", "public sealed record Tag(string Name, int Weight);");
        Assert.NotEqual(Samples.Rich, after);
        var result = IncrementalAssert.ModifiedAfterEdit(Generators, TrackingNames.All, new[] { Samples.Rich }, new[] { after });
        Assert.Contains("Weight", result.Sources["Sample_Tag.Formatter.g.cs"]);
    }

    [Fact]
    public void Models_hold_no_Roslyn_types()
    {
        var result = RunRich();
        IncrementalAssert.AssertTrackedOutputsHaveNoRoslynTypes(result, TrackingNames.All);
        var bad = GeneratorHarness.Run(Generators, Samples.BadShapes);
        IncrementalAssert.AssertTrackedOutputsHaveNoRoslynTypes(bad, TrackingNames.All);

        // And by type: every model type is a record/struct whose fields are plain data.
        foreach (var type in typeof(FormatterGenerator).Assembly.GetTypes().Where(t => t.Namespace == "CachingGen.Generators.Formatters" && t.Name.EndsWith("Model", StringComparison.Ordinal)))
        {
            foreach (var field in type.GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public))
            {
                Assert.False(typeof(ISymbol).IsAssignableFrom(field.FieldType) || typeof(SyntaxNode).IsAssignableFrom(field.FieldType) || typeof(Compilation).IsAssignableFrom(field.FieldType), type + "." + field.Name);
            }
        }
    }

    [Fact]
    public void Fingerprints_are_stable_and_follow_the_layout()
    {
        static string FingerprintOf(string source, string hint)
        {
            var text = GeneratorHarness.Run(Generators, source).Sources[hint];
            return Regex.Match(text, "SchemaFingerprint = (0x[0-9A-F]{16}UL)").Groups[1].Value;
        }

        const string Hint = "Sample_Preference.Formatter.g.cs";
        var first = FingerprintOf(Samples.Preference, Hint);
        Assert.Matches("^0x[0-9A-F]{16}UL$", first);
        Assert.Equal(first, FingerprintOf(Samples.Preference, Hint));

        Assert.Equal(first, FingerprintOf(Samples.Preference.Replace("IPreferenceRepository", "IOtherName"), Hint));

        var typeChanged = FingerprintOf(Samples.Preference.Replace("bool Enabled", "int Enabled"), Hint);
        Assert.NotEqual(first, typeChanged);
        var reordered = FingerprintOf(Samples.Preference.Replace("string Channel, bool Enabled", "bool Enabled, string Channel"), Hint);
        Assert.NotEqual(first, reordered);
        var renamedMember = FingerprintOf(Samples.Preference.Replace("long Version)", "long Revision)").Replace("Preference.Version", "Preference.Revision"), Hint);
        Assert.NotEqual(first, renamedMember);
        var nullableOnly = FingerprintOf(Samples.Preference.Replace("string Channel", "string? Channel"), Hint);
        Assert.Equal(first, nullableOnly);

        // Structural: renaming the type alone keeps the fingerprint (documented decision).
        var renamedType = FingerprintOf(Samples.Preference.Replace("Preference", "Pref"), "Sample_Pref.Formatter.g.cs");
        Assert.Equal(first, renamedType);

        // A nested type's change propagates to its parent.
        var parent = FingerprintOf(Samples.Rich, "Sample_Profile.Formatter.g.cs");
        var nestedChanged = FingerprintOf(Samples.Rich.Replace("record Address(string Street, string? City, int Zip)", "record Address(string Street, string? City, long Zip)"), "Sample_Profile.Formatter.g.cs");
        Assert.NotEqual(parent, nestedChanged);

        Assert.NotEqual(SchemaFingerprint.Compute("a"), SchemaFingerprint.Compute("b"));
        Assert.Equal(0xCBF29CE484222325UL, SchemaFingerprint.Compute(string.Empty)); // the FNV-1a 64 offset basis
    }

    [Fact]
    public void Bad_shapes_produce_no_exception_no_diagnostic_and_no_formatter()
    {
        var result = GeneratorHarness.Run(Generators, Samples.BadShapes);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Assert.Empty(result.GeneratedCodeDiagnostics);
        Assert.Equal(new[] { "CachingGenFormatterResolver.g.cs", "Sample_Good.Formatter.g.cs" }, result.Sources.Keys.OrderBy(k => k, StringComparer.Ordinal));

        var repository = result.TrackedSteps[TrackingNames.RepositoryModels]
            .SelectMany(s => s.Outputs).Select(o => o.Value).OfType<RepositoryFormatterModel>().Single();
        string[] invalid = { "HasObject", "HasAbstract", "HasInterface", "NoCtor", "UsesBad" };
        foreach (var name in invalid)
        {
            var model = repository.Types.Single(t => t.TypeName == "global::Sample." + name);
            Assert.False(model.IsValid, name);
            Assert.All(model.Diagnostics, d => Assert.Contains(d.Descriptor.Id, new[] { "CGEN017", "CGEN018", "CGEN019", "CGEN020", "CGEN021" }));
            Assert.NotNull(model.Diagnostics[0].Location);
        }

        Assert.Contains(repository.Types, t => t.TypeName == "global::Sample.Good" && t.IsValid);
        Assert.Contains(repository.Diagnostics, d => d.MessageArgs[0] == "object?");
        Assert.Contains(repository.Diagnostics, d => d.MessageArgs[0].Contains("HashSet", StringComparison.Ordinal));
        Assert.Contains(repository.Diagnostics, d => d.MessageArgs[0].Contains("Open<T>", StringComparison.Ordinal));
        var diagnostic = repository.Types.Single(t => t.TypeName == "global::Sample.HasObject").Diagnostics[0].ToDiagnostic();
        Assert.Equal("CGEN017", diagnostic.Id);
        Assert.True(diagnostic.Location.IsInSource || diagnostic.Location.Kind == LocationKind.ExternalFile);
    }

    private static IEnumerable<(string Factory, Type Type)> RichValues(LoadedAssembly loaded)
    {
        var preference = loaded.GetType("Sample.Preference");
        yield return ("Preference", preference);
        yield return ("Profile", loaded.GetType("Sample.Profile"));
        yield return ("Settings", loaded.GetType("Sample.Settings"));
        yield return ("Keyed", loaded.GetType("Sample.Keyed"));
        yield return ("Page", loaded.GetType("Sample.Page`1").MakeGenericType(preference));
        yield return ("Counter", loaded.GetType("Sample.Counter"));
        yield return ("Node", loaded.GetType("Sample.Node"));
        yield return ("List", typeof(IReadOnlyList<>).MakeGenericType(preference));
    }

    private static byte[] NestedNodes(int depth)
    {
        return Write(w =>
        {
            for (var i = 0; i < depth; i++)
            {
                w.WriteArrayHeader(2);
                w.Write(i);
            }

            w.WriteNil();
        });
    }

    private delegate void WriteAction(ref MessagePackWriter writer);

    private static byte[] Write(WriteAction write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Write(Action<MessagePackWriterBox> write)
    {
        var box = new MessagePackWriterBox();
        write(box);
        return box.ToArray();
    }

    /// <summary>MessagePackWriter is a ref struct; lambdas use this box that records calls instead.</summary>
    private sealed class MessagePackWriterBox
    {
        private readonly List<WriteAction> _actions = new();

        public void WriteArrayHeader(int count) => _actions.Add((ref MessagePackWriter w) => w.WriteArrayHeader(count));

        public void Write(long value) => _actions.Add((ref MessagePackWriter w) => w.Write(value));

        public void Write(int value) => _actions.Add((ref MessagePackWriter w) => w.Write(value));

        public void Write(bool value) => _actions.Add((ref MessagePackWriter w) => w.Write(value));

        public void Write(string value) => _actions.Add((ref MessagePackWriter w) => w.Write(value));

        public void WriteNil() => _actions.Add((ref MessagePackWriter w) => w.WriteNil());

        public byte[] ToArray() => FormatterGeneratorTests.Write((ref MessagePackWriter w) =>
        {
            foreach (var action in _actions)
            {
                action(ref w);
            }
        });
    }
}
