using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using MessagePack.Formatters;

namespace CachingGen.Runtime;

/// <summary>
/// Writes and reads the envelopes (see <see cref="CacheEnvelope"/>) of one entity type under one schema fingerprint,
/// with a formatter resolved once. An instance, not static generic methods: called from the shared generic code of
/// <see cref="EntityCache{TEntity}"/>, a static generic method is found by a runtime helper (or, through a delegate, an
/// instantiating stub) on every call, and a read hit decodes once per call.
/// </summary>
/// <param name="fingerprint">The schema fingerprint written into (and required of) every envelope.</param>
/// <param name="options">The serializer options (see <see cref="CacheEnvelope.FormatterFor{T}"/>).</param>
internal sealed class EnvelopeCodec<T>(ulong fingerprint, MessagePackSerializerOptions options)
{
    private readonly ulong _fingerprint = fingerprint;
    private readonly MessagePackSerializerOptions _options = options;
    private readonly IMessagePackFormatter<T> _formatter = CacheEnvelope.FormatterFor<T>(options);

    /// <summary>Writes the envelope of <paramref name="value"/> (a cached "not found" for null).</summary>
    public ReadOnlyMemory<byte> Encode(T? value)
    {
        if (value is null)
        {
            return CacheEnvelope.EncodeNotFound(_fingerprint);
        }

        var buffer = new ArrayBufferWriter<byte>(128);
        CacheEnvelope.WriteHeader(buffer.GetSpan(CacheEnvelope.HeaderSize), CacheEnvelope.ValueKind, _fingerprint);
        buffer.Advance(CacheEnvelope.HeaderSize);
        var writer = new MessagePackWriter(buffer) { OldSpec = _options.OldSpec ?? false };
        _formatter.Serialize(ref writer, value, _options);
        writer.Flush();
        return buffer.WrittenMemory;
    }

    /// <summary>Reads an envelope. Returns false (with the reason) when it is foreign, stale or corrupt.</summary>
    public bool TryDecode(ReadOnlyMemory<byte> bytes, out T? value, out string? reason)
    {
        value = default;
        var span = bytes.Span;
        if (span.Length < CacheEnvelope.HeaderSize)
        {
            reason = "too short to be a CachingGen envelope";
            return false;
        }

        if (span[0] != CacheEnvelope.Format)
        {
            reason = $"unknown envelope format {span[0]}";
            return false;
        }

        var stored = BinaryPrimitives.ReadUInt64LittleEndian(span.Slice(2, 8));
        if (stored != _fingerprint)
        {
            reason = $"schema fingerprint {stored:x16} differs from this build's {_fingerprint:x16}";
            return false;
        }

        switch (span[1])
        {
            case CacheEnvelope.NotFoundKind when span.Length == CacheEnvelope.HeaderSize:
                reason = null;
                return true;
            case CacheEnvelope.ValueKind:
                try
                {
                    var payload = bytes.Slice(CacheEnvelope.HeaderSize);
                    var reader = new MessagePackReader(payload);
                    value = _formatter.Deserialize(ref reader, _options);
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
}
