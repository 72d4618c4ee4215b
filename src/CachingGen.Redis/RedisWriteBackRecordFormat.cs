using System.Buffers;
using CachingGen.WriteBack;
using MessagePack;

namespace CachingGen.Redis;

/// <summary>
/// How a write-back record is stored in its shard's stream: the field <c>k</c> (the entity key) and the field <c>d</c>,
/// holding the record as a MessagePack array <c>[format version 1, repository, method, entity key, idempotency key, arguments (bin), enqueue Unix ms, time
/// to live ms or nil, coalesce]</c>.
/// </summary>
/// <remarks>
/// Two fields instead of one per member: a stream entry's fields are converted to Lua strings and back on every read
/// (the read script) and walked by every trim and delete, so eight fields cost Redis several times the work of one.
/// Entries written by earlier versions (one field per member: <c>k r m i a t l c</c>) are still read.
/// </remarks>
internal static class RedisWriteBackRecordFormat
{
    /// <summary>The stream field that holds a packed record.</summary>
    public const string Field = "d";

    private const int Version = 1;
    private const int Members = 9;

    public static byte[] Encode(WriteBackRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + record.Arguments.Length + record.EntityKey.Length + record.IdempotencyKey.Length + record.Method.Length + record.Repository.Length);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(Members);
        writer.Write(Version);
        writer.Write(record.Repository);
        writer.Write(record.Method);
        writer.Write(record.EntityKey);
        writer.Write(record.IdempotencyKey);
        writer.Write(record.Arguments.Span);
        writer.Write(record.EnqueuedAt.ToUnixTimeMilliseconds());
        if (record.TimeToLive is { } ttl)
        {
            writer.Write(RedisEntryFormat.ToMilliseconds(ttl));
        }
        else
        {
            writer.WriteNil();
        }

        writer.Write(record.Coalesce);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a packed record; false when the bytes are not one (a damaged or foreign entry).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> bytes, out WriteBackRecord record)
    {
        record = null!;
        try
        {
            var reader = new MessagePackReader(bytes);
            if (reader.ReadArrayHeader() != Members || reader.ReadInt32() != Version)
            {
                return false;
            }

            var repository = reader.ReadString() ?? string.Empty;
            var method = reader.ReadString() ?? string.Empty;
            var entityKey = reader.ReadString() ?? string.Empty;
            var idempotencyKey = reader.ReadString() ?? string.Empty;
            var arguments = reader.ReadBytes() is { } sequence ? sequence.ToArray() : Array.Empty<byte>();
            var enqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            TimeSpan? timeToLive = reader.TryReadNil() ? null : TimeSpan.FromMilliseconds(reader.ReadInt64());
            var coalesce = reader.ReadBoolean();
            record = new WriteBackRecord(repository, method, entityKey, idempotencyKey, arguments, enqueuedAt) { TimeToLive = timeToLive, Coalesce = coalesce };
            return true;
        }
        catch (Exception exception) when (exception is MessagePackSerializationException or EndOfStreamException or ArgumentException or OverflowException or InvalidOperationException)
        {
            return false;
        }
    }
}
