using CachingGen.Generators.Tests.Infrastructure;

namespace CachingGen.Generators.Tests.Formatters;

/// <summary>Test sources for the formatter generator.</summary>
internal static class Samples
{
    /// <summary>The user's canonical sample.</summary>
    public const string Preference = "using System.Collections.Generic;\nusing System.Threading;\nusing System.Threading.Tasks;\n" + CanonicalSample.Source;

    /// <summary>Records with collections, enums, nested records and nullable members; an init-only class; a keyed
    /// [MessagePackObject] with a gap; a closed generic; structs; an inherited repository interface.</summary>
    public const string Rich = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CachingGen;
        using MessagePack;
        namespace Sample;

        public enum Tier { Free = 0, Pro = 5, Enterprise = 9 }

        [Flags]
        public enum Flags : byte { None = 0, A = 1, B = 2 }

        public sealed record Address(string Street, string? City, int Zip);

        public readonly record struct GeoPoint(double Lat, double Lon);

        public struct Counter
        {
            public int Hits;
            public long Misses;
        }

        public sealed record Profile(
            [property: CacheKey] Guid Id,
            string Name,
            string? Nickname,
            Tier Tier,
            Tier? PreviousTier,
            Flags Flags,
            int? Age,
            DateTimeOffset CreatedAt,
            decimal Balance,
            byte[] Avatar,
            List<string> Tags,
            string[] Aliases,
            IReadOnlyList<Address> Addresses,
            Dictionary<string, int> Scores,
            IReadOnlyDictionary<string, Address>? AddressBook,
            Address Home,
            Address? Work,
            GeoPoint Position,
            GeoPoint? LastPosition,
            long[] Numbers,
            IEnumerable<Tier> History,
            IDictionary<int, List<string>> Groups)
        {
            [IgnoreMember] public string Display => Name + "!";
            [System.Runtime.Serialization.IgnoreDataMember] public string Display2 => Name + "?";
            public static int StaticCount { get; set; }
            public int NameLength => Name.Length;
        }

        public sealed class Settings
        {
            public required string Theme { get; init; }
            public int FontSize { get; init; } = 12;
            public List<string>? Recent { get; init; }
            public Tier Tier { get; set; }
            public ICollection<int>? Pinned { get; set; }
            public IReadOnlyCollection<string>? Labels { get; set; }
            public IList<GeoPoint>? Points { get; set; }
            public string this[int i] => Theme;
        }

        [MessagePackObject]
        public sealed class Keyed
        {
            [Key(0)] public int Id { get; set; }
            [Key(2)] public string? Name { get; set; }
            [Key(3)] public List<int>? Values { get; set; }
            [Key(4)] public DateTime Stamp { get; set; }
            [IgnoreMember] public string Ignored { get; set; } = "ignored";
        }

        public sealed record Page<T>(IReadOnlyList<T> Items, int Total, string? Next);

        public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);

        public sealed record Node(int Value, Node? Next);

        public sealed record Tag(string Name);

        public interface IBaseRepository
        {
            [Cached] Task<Tag?> GetTagAsync(string name, CancellationToken ct = default);
        }

        [CachedRepository(KeyPrefix = "profile")]
        public interface IProfileRepository : IBaseRepository
        {
            [Cached] Task<Profile?> GetAsync(Guid id, CancellationToken ct = default);
            [Cached] Task<Page<Preference>> GetPageAsync(int page, CancellationToken ct = default);
            [Cached] ValueTask<Settings?> GetSettingsAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task SaveKeyedAsync(Keyed keyed, Counter counter, CancellationToken ct = default);
            [WriteBack] Task SaveNodeAsync(Node node, CancellationToken ct = default);
            [Cached] Task<IReadOnlyList<Preference>> ListAsync(CancellationToken ct = default);
        }

        /// <summary>Not used by any repository: must have no formatter.</summary>
        public sealed class Unrelated
        {
            public int X { get; set; }
        }
        """;

    /// <summary>Compiled with <see cref="Rich"/>: serialization helpers and sample values (same assembly, so the
    /// internal resolver is visible).</summary>
    public const string RichHelpers = """
        using System;
        using System.Collections.Generic;
        using MessagePack;
        using CachingGen.Generated;
        namespace Sample;

        public static class Io
        {
            public static MessagePackSerializerOptions Options => CachingGenFormatterResolver.Options;
            public static byte[] Serialize<T>(T value) => MessagePackSerializer.Serialize(value, CachingGenFormatterResolver.Options);
            public static T Deserialize<T>(byte[] bytes) => MessagePackSerializer.Deserialize<T>(bytes, CachingGenFormatterResolver.Options);
            public static byte[] SerializeStandard<T>(T value) => MessagePackSerializer.Serialize(value, MessagePack.Resolvers.StandardResolver.Options);
            public static object? Formatter<T>() => CachingGenFormatterResolver.Options.Resolver.GetFormatter<T>();
            public static object? OwnFormatter<T>() => CachingGenFormatterResolver.Instance.GetFormatter<T>();
            public static ulong Fingerprint<T>() => CachingGenFormatterResolver.Instance.GetSchemaFingerprint<T>();
            public static bool IsGenerated(Type type) => CachingGenFormatterResolver.IsGenerated(type);

            /// <summary>Serializes through a composite resolver whose own Address formatter comes before ours.</summary>
            public static byte[] SerializeWithShoutingAddresses<T>(T value)
                => MessagePackSerializer.Serialize(value, CachingGenFormatterResolver.Options.WithResolver(
                    MessagePack.Resolvers.CompositeResolver.Create(
                        new MessagePack.Formatters.IMessagePackFormatter[] { new ShoutingAddressFormatter() },
                        new IFormatterResolver[] { CachingGenFormatterResolver.Instance })));
        }

        /// <summary>Writes an Address in the generated layout with its street in capitals.</summary>
        public sealed class ShoutingAddressFormatter : MessagePack.Formatters.IMessagePackFormatter<Address?>
        {
            public void Serialize(ref MessagePackWriter writer, Address? value, MessagePackSerializerOptions options)
            {
                if (value is null)
                {
                    writer.WriteNil();
                    return;
                }

                writer.WriteArrayHeader(3);
                writer.Write(value.Street.ToUpperInvariant());
                writer.Write(value.City);
                writer.Write(value.Zip);
            }

            public Address? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) => throw new NotSupportedException();
        }

        public static class Values
        {
            public static Preference Preference() => new(42, "email", true, 7);

            public static Profile Profile() => new(
                new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"),
                "Ada",
                null,
                Tier.Pro,
                Tier.Enterprise,
                Flags.A | Flags.B,
                36,
                new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)),
                12.34m,
                new byte[] { 1, 2, 3 },
                new List<string> { "a", "b" },
                new[] { "x" },
                new[] { new Address("Main St", null, 12345), new Address("Side St", "Town", 1) },
                new Dictionary<string, int> { ["k"] = 1, ["j"] = 2 },
                new Dictionary<string, Address> { ["home"] = new Address("H", "C", 2) },
                new Address("Home St", "City", 9),
                null,
                new GeoPoint(1.5, -2.25),
                new GeoPoint(3, 4),
                new long[] { long.MinValue, 0, long.MaxValue },
                new[] { Tier.Free, Tier.Enterprise },
                new Dictionary<int, List<string>> { [1] = new List<string> { "one" } });

            public static Settings Settings() => new()
            {
                Theme = "dark",
                FontSize = 14,
                Recent = new List<string> { "r1" },
                Tier = Tier.Enterprise,
                Pinned = new List<int> { 3, 4 },
                Labels = new[] { "l" },
                Points = new List<GeoPoint> { new(1, 2) },
            };

            public static Keyed Keyed() => new() { Id = 5, Name = "five", Values = new List<int> { 1, 2 }, Stamp = new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc), Ignored = "not serialized" };

            public static Page<Preference> Page() => new(new[] { Preference(), new Preference(1, "sms", false, 2) }, 2, "next");

            public static Counter Counter() => new() { Hits = 3, Misses = 4 };

            public static Node Node() => new(1, new Node(2, new Node(3, null)));

            public static IReadOnlyList<Preference> List() => new[] { Preference() };
        }
        """;

    /// <summary>Bad shapes: must not crash and must get no formatter.</summary>
    public const string BadShapes = """
        using System.Threading.Tasks;
        using CachingGen;
        namespace Sample;

        public sealed class HasObject { public object Payload { get; set; } = new(); }
        public abstract class Animal { public string Name { get; set; } = ""; }
        public sealed class HasAbstract { public Animal? Pet { get; set; } }
        public interface IShape { int Sides { get; } }
        public sealed class HasInterface { public IShape? Shape { get; set; } }
        public sealed class NoCtor
        {
            public NoCtor(int x, int unmatched) { X = x; }
            public int X { get; }
        }
        public sealed class UsesBad { public HasObject? Inner { get; set; } public int Ok { get; set; } }
        public sealed record Good(int Value);
        public sealed class Open<T> { public T? Value { get; set; } }

        [CachedRepository]
        public interface IBadRepository
        {
            [Cached] Task<HasObject?> A(int id);
            [Cached] Task<HasAbstract?> B(int id);
            [Cached] Task<HasInterface?> C(int id);
            [Cached] Task<NoCtor?> D(int id);
            [Cached] Task<UsesBad?> E(int id);
            [Cached] Task<Good?> F(int id);
            [Cached] Task<object?> G(int id);
            [WriteThrough] Task H<T>(Open<T> value);
            [Cached] Task<System.Collections.Generic.HashSet<int>?> I(int id);
        }
        """;
}
