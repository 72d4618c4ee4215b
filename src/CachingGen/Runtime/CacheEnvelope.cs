using System.Buffers;
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

    public static ReadOnlyMemory<byte> Encode<T>(T? value, ulong fingerprint, MessagePackSerializerOptions options)
        => Encode(value, fingerprint, FormatterFor<T>(options), options);

    /// <summary>Writes an envelope with a formatter resolved once (<see cref="FormatterFor{T}"/>).</summary>
    public static ReadOnlyMemory<byte> Encode<T>(T? value, ulong fingerprint, IMessagePackFormatter<T> formatter, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            return EncodeNotFound(fingerprint);
        }

        var buffer = new ArrayBufferWriter<byte>(128);
        WriteHeader(buffer.GetSpan(HeaderSize), ValueKind, fingerprint);
        buffer.Advance(HeaderSize);
        var writer = new MessagePackWriter(buffer) { OldSpec = options.OldSpec ?? false };
        formatter.Serialize(ref writer, value, options);
        writer.Flush();
        return buffer.WrittenMemory;
    }

    public static byte[] EncodeNotFound(ulong fingerprint)
    {
        var bytes = new byte[HeaderSize];
        WriteHeader(bytes, NotFoundKind, fingerprint);
        return bytes;
    }

    /// <summary>Reads an envelope. Returns false (with the reason) when it is foreign, stale or corrupt.</summary>
    public static bool TryDecode<T>(ReadOnlyMemory<byte> bytes, ulong fingerprint, MessagePackSerializerOptions options, out T? value, out string? reason)
        => TryDecode(bytes, fingerprint, FormatterFor<T>(options), options, out value, out reason);

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

    /// <summary>Reads an envelope with a formatter resolved once (<see cref="FormatterFor{T}"/>). Returns false
    /// (with the reason) when it is foreign, stale or corrupt.</summary>
    public static bool TryDecode<T>(ReadOnlyMemory<byte> bytes, ulong fingerprint, IMessagePackFormatter<T> formatter, MessagePackSerializerOptions options, out T? value, out string? reason)
    {
        value = default;
        var span = bytes.Span;
        if (span.Length < HeaderSize)
        {
            reason = "too short to be a CachingGen envelope";
            return false;
        }

        if (span[0] != Format)
        {
            reason = $"unknown envelope format {span[0]}";
            return false;
        }

        var stored = BinaryPrimitives.ReadUInt64LittleEndian(span.Slice(2, 8));
        if (stored != fingerprint)
        {
            reason = $"schema fingerprint {stored:x16} differs from this build's {fingerprint:x16}";
            return false;
        }

        switch (span[1])
        {
            case NotFoundKind when span.Length == HeaderSize:
                reason = null;
                return true;
            case ValueKind:
                try
                {
                    var payload = bytes.Slice(HeaderSize);
                    var reader = new MessagePackReader(payload);
                    value = formatter.Deserialize(ref reader, options);
                    if (reader.Consumed != payload.Length)
                    {
                        value = default;
                        reason = "trailing bytes after the payload";
                        return false;
                    }

                    if (value is null)
                    {
                        reason = "the payload is nil";
                        return false;
                    }

                    reason = null;
                    return true;
                }
                // Any failure to read foreign or corrupt bytes is a miss (a formatter throws its own exception types);
                // only running out of memory is not about the bytes.
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    value = default;
                    reason = "the payload does not deserialize: " + exception.Message;
                    return false;
                }

            default:
                reason = $"unknown entry kind {span[1]}";
                return false;
        }
    }

    private static void WriteHeader(Span<byte> span, byte kind, ulong fingerprint)
    {
        span[0] = Format;
        span[1] = kind;
        BinaryPrimitives.WriteUInt64LittleEndian(span.Slice(2, 8), fingerprint);
    }
}
