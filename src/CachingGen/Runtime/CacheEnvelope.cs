using System.Buffers.Binary;
using MessagePack;
using MessagePack.Formatters;

namespace CachingGen.Runtime;

/// <summary>
/// The bytes of a cache value: <c>[format:1][kind:1][schema fingerprint:8, little endian][MessagePack payload]</c>.
/// The runtime owns this format; stores never look inside it.
/// </summary>
internal static class CacheEnvelope
{
    /// <summary>The only format this build reads and writes.</summary>
    public const byte Format = 1;

    /// <summary>Kind byte: an entity follows.</summary>
    public const byte ValueKind = 1;

    /// <summary>Kind byte: a cached "not found", no payload.</summary>
    public const byte NotFoundKind = 2;

    /// <summary>The size of the header before the payload.</summary>
    public const int HeaderSize = 10;

    /// <summary>Writes an envelope (see <see cref="EnvelopeCodec{T}.Encode"/>; an entity's cache keeps one codec instead).</summary>
    public static ReadOnlyMemory<byte> Encode<T>(T? value, ulong fingerprint, MessagePackSerializerOptions options)
        => new EnvelopeCodec<T>(fingerprint, options).Encode(value);

    public static byte[] EncodeNotFound(ulong fingerprint)
    {
        var bytes = new byte[HeaderSize];
        WriteHeader(bytes, NotFoundKind, fingerprint);
        return bytes;
    }

    /// <summary>Reads an envelope (see <see cref="EnvelopeCodec{T}.TryDecode"/>; an entity's cache keeps one codec instead).</summary>
    public static bool TryDecode<T>(ReadOnlyMemory<byte> bytes, ulong fingerprint, MessagePackSerializerOptions options, out T? value, out string? reason)
        => new EnvelopeCodec<T>(fingerprint, options).TryDecode(bytes, out value, out reason);

    /// <summary>
    /// The formatter that writes and reads <typeparamref name="T"/> under <paramref name="options"/>, resolved once by
    /// the caller (the resolver lookup is a generic virtual call). The runtime calls formatters itself instead of
    /// <see cref="MessagePackSerializer"/>: its static state initializes MessagePack's dynamic (Reflection.Emit)
    /// resolvers, which Native AOT reports in every application that reaches it. So the envelope's payload is never
    /// compressed, and options that ask for compression are refused here, when the entity's cache is created, rather than ignored.
    /// </summary>
    /// <exception cref="ArgumentException">The options ask for LZ4 compression.</exception>
    public static IMessagePackFormatter<T> FormatterFor<T>(MessagePackSerializerOptions options)
    {
        if (options.Compression != MessagePackCompression.None)
        {
            throw new ArgumentException(
                $"The serializer options for {typeof(T)} ask for {options.Compression} compression, which CachingGen does not apply to cache entries or write-back records. Use the generated CachingGenFormatterResolver.Options, or options with MessagePackCompression.None.",
                nameof(options));
        }

        return options.Resolver.GetFormatterWithVerify<T>();
    }

    internal static void WriteHeader(Span<byte> span, byte kind, ulong fingerprint)
    {
        span[0] = Format;
        span[1] = kind;
        BinaryPrimitives.WriteUInt64LittleEndian(span.Slice(2, 8), fingerprint);
    }
}
