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
    {
        if (value is null)
        {
            return EncodeNotFound(fingerprint);
        }

        var buffer = new ArrayBufferWriter<byte>(128);
        WriteHeader(buffer.GetSpan(HeaderSize), ValueKind, fingerprint);
        buffer.Advance(HeaderSize);
        MessagePackSerializer.Serialize(buffer, value, options);
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
        => TryDecode(bytes, fingerprint, DirectFormatterOrNull<T>(options), options, out value, out reason);

    /// <summary>The formatter a reader may call directly for <typeparamref name="T"/> under <paramref name="options"/>,
    /// or null when the payload must go through <see cref="MessagePackSerializer"/> (compressed options: the LZ4 frame
    /// is the serializer's to unwrap). Calling the formatter directly saves the resolver lookup (a generic virtual
    /// call) on every read hit.</summary>
    public static IMessagePackFormatter<T>? DirectFormatterOrNull<T>(MessagePackSerializerOptions options)
        => options.Compression == MessagePackCompression.None ? options.Resolver.GetFormatterWithVerify<T>() : null;

    /// <summary>Reads an envelope with a formatter resolved once (<see cref="DirectFormatterOrNull{T}"/>). Returns false
    /// (with the reason) when it is foreign, stale or corrupt.</summary>
    public static bool TryDecode<T>(ReadOnlyMemory<byte> bytes, ulong fingerprint, IMessagePackFormatter<T>? formatter, MessagePackSerializerOptions options, out T? value, out string? reason)
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
                    int read;
                    if (formatter is null)
                    {
                        value = MessagePackSerializer.Deserialize<T>(payload, options, out read);
                    }
                    else
                    {
                        var reader = new MessagePackReader(payload);
                        value = formatter.Deserialize(ref reader, options);
                        read = (int)reader.Consumed;
                    }

                    if (read != payload.Length)
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
                // Any failure to read foreign or corrupt bytes is a miss (a formatter called directly throws its own
                // exception types, not MessagePackSerializer's wrapper); only running out of memory is not about the bytes.
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
