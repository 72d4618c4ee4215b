using CachingGen.Serialization;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;
using Sample;

namespace CachingGen.Generated;

/// <summary>
/// Stand-in for the generated resolver (which lives on the generator's branch): a hand-written Preference formatter
/// composed with <see cref="BuiltinResolver"/>, and a schema fingerprint. No dynamic resolver.
/// </summary>
public sealed class CachingGenFormatterResolver : IFormatterResolver, ISchemaFingerprintProvider
{
    public const ulong PreferenceFingerprint = 0x5EED_0000_0000_0001UL;

    public static readonly CachingGenFormatterResolver Instance = new(PreferenceFingerprint);

    public static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithResolver(Instance);

    private readonly ulong _fingerprint;

    public CachingGenFormatterResolver(ulong preferenceFingerprint) => _fingerprint = preferenceFingerprint;

    public IMessagePackFormatter<T>? GetFormatter<T>()
        => typeof(T) == typeof(Preference)
            ? (IMessagePackFormatter<T>)(object)PreferenceFormatter.Instance
            : BuiltinResolver.Instance.GetFormatter<T>();

    public ulong GetSchemaFingerprint<T>() => typeof(T) == typeof(Preference) ? _fingerprint : 0;
}

/// <summary>Preference as the array [UserId, Version, Channel, Enabled].</summary>
public sealed class PreferenceFormatter : IMessagePackFormatter<Preference?>
{
    public static readonly PreferenceFormatter Instance = new();

    public void Serialize(ref MessagePackWriter writer, Preference? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(4);
        writer.Write(value.UserId);
        writer.Write(value.Version);
        writer.Write(value.Channel);
        writer.Write(value.Enabled);
    }

    public Preference? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var count = reader.ReadArrayHeader();
        if (count != 4)
        {
            throw new MessagePackSerializationException($"Preference has 4 members, the payload {count}.");
        }

        var userId = reader.ReadInt64();
        var version = reader.ReadInt64();
        var channel = reader.ReadString() ?? throw new MessagePackSerializationException("Channel is nil.");
        var enabled = reader.ReadBoolean();
        return new Preference(userId, version, channel, enabled);
    }
}
