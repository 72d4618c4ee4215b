using System.Buffers.Binary;
using CachingGen.Storage;
using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>
/// The bytes stored under one Redis key (one Redis string per cache key):
/// <list type="bullet">
/// <item><description>value: <c>'V'</c> (0x56) followed by the payload, the runtime's envelope, unchanged;</description></item>
/// <item><description>versioned value (an entity with a <c>[CacheVersion]</c> member): <c>'N'</c> (0x4E), the version as 8
/// big-endian bytes with the sign bit flipped (so byte order is numeric order), then the payload; it always has a time
/// to live;</description></item>
/// <item><description>tombstone: <c>'T'</c> (0x54), the 8-byte big-endian generation (positive), and, when the
/// invalidation named a fill time to live, that time to live in 8-byte big-endian ticks;</description></item>
/// <item><description>write marker: <c>'W'</c> (0x57), the 8-byte big-endian generation (positive; the write token),
/// one byte <c>'0'</c> or <c>'1'</c> (contended: writes of the key overlapped), and the number of writes in flight as
/// ASCII decimal. It lives at most the write lease.</description></item>
/// </list>
/// Anything else under a key (bytes another program wrote) is "foreign": a miss whose fill may overwrite it.
/// </summary>
internal static class RedisEntryFormat
{
    public const byte ValueTag = (byte)'V';
    public const byte VersionedValueTag = (byte)'N';
    public const int VersionedValueHeaderLength = 9;
    public const byte TombstoneTag = (byte)'T';
    public const byte MarkerTag = (byte)'W';
    public const int MarkerMinimumLength = 11;
    public const int TombstoneHeaderLength = 9;
    public const int TombstoneWithFillTtlLength = 17;

    /// <summary>The fill token of a miss on foreign bytes: its fill overwrites them if they are still foreign.</summary>
    public const long ForeignToken = long.MinValue;

    /// <summary>Interprets the reply of one GET.</summary>
    public static CacheLookup Parse(RedisValue stored)
    {
        if (stored.IsNull)
        {
            return CacheLookup.Miss(0);
        }

        ReadOnlyMemory<byte> bytes = stored;
        var span = bytes.Span;
        if (span.Length >= 1 && span[0] == ValueTag)
        {
            return CacheLookup.Hit(bytes[1..]);
        }

        if (span.Length >= VersionedValueHeaderLength && span[0] == VersionedValueTag)
        {
            return CacheLookup.Hit(bytes[VersionedValueHeaderLength..]);
        }

        if (TryReadTombstone(span, out var generation, out var fillTimeToLive))
        {
            return CacheLookup.Miss(generation, fillTimeToLive);
        }

        if (IsMarker(span))
        {
            return CacheLookup.MissDuringWrite(BinaryPrimitives.ReadInt64BigEndian(span.Slice(1, 8)));
        }

        return CacheLookup.Miss(ForeignToken);
    }

    /// <summary>Whether <paramref name="span"/> is a tombstone; reads its generation and fill time to live.</summary>
    public static bool TryReadTombstone(ReadOnlySpan<byte> span, out long generation, out TimeSpan? fillTimeToLive)
    {
        generation = 0;
        fillTimeToLive = null;
        if (span.Length < TombstoneHeaderLength || span[0] != TombstoneTag)
        {
            return false;
        }

        generation = BinaryPrimitives.ReadInt64BigEndian(span.Slice(1, 8));
        if (generation <= 0)
        {
            generation = 0;
            return false;
        }

        if (span.Length >= TombstoneWithFillTtlLength)
        {
            var ticks = BinaryPrimitives.ReadInt64BigEndian(span.Slice(TombstoneHeaderLength, 8));
            if (ticks > 0)
            {
                fillTimeToLive = TimeSpan.FromTicks(ticks);
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="span"/> is a write marker: the tag, 8 generation bytes, the contended flag
    /// <c>'0'</c>/<c>'1'</c> and at least one count byte. The fill script applies the same test to the first 10 bytes,
    /// so both sides agree on what is a marker (foreign bytes of that shape are treated as one: never filled over).</summary>
    public static bool IsMarker(ReadOnlySpan<byte> span)
        => span.Length >= MarkerMinimumLength && span[0] == MarkerTag && (span[9] == (byte)'0' || span[9] == (byte)'1');

    /// <summary>The stored form of a value: the tag and the payload.</summary>
    public static byte[] EncodeValue(ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[payload.Length + 1];
        bytes[0] = ValueTag;
        payload.CopyTo(bytes.AsSpan(1));
        return bytes;
    }

    /// <summary>The stored form of a value with its entity version.</summary>
    public static byte[] EncodeVersionedValue(long version, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[payload.Length + VersionedValueHeaderLength];
        bytes[0] = VersionedValueTag;
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(1, 8), unchecked((ulong)version ^ 0x8000_0000_0000_0000UL));
        payload.CopyTo(bytes.AsSpan(VersionedValueHeaderLength));
        return bytes;
    }

    /// <summary>The stored form of a tombstone.</summary>
    public static byte[] EncodeTombstone(long generation, TimeSpan? fillTimeToLive)
    {
        var bytes = new byte[fillTimeToLive is null ? TombstoneHeaderLength : TombstoneWithFillTtlLength];
        bytes[0] = TombstoneTag;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1, 8), generation);
        if (fillTimeToLive is { } fill)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(TombstoneHeaderLength, 8), fill.Ticks);
        }

        return bytes;
    }

    /// <summary>
    /// The first 9 bytes the fill script expects under the key for <paramref name="fillToken"/>: the tombstone header
    /// for a positive token, <c>"F"</c> for <see cref="ForeignToken"/> and empty for 0 (any other token behaves like 0).
    /// </summary>
    public static byte[] ExpectedForFill(long fillToken)
    {
        if (fillToken > 0)
        {
            var bytes = new byte[TombstoneHeaderLength];
            bytes[0] = TombstoneTag;
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1, 8), fillToken);
            return bytes;
        }

        return fillToken == ForeignToken ? "F"u8.ToArray() : Array.Empty<byte>();
    }

    /// <summary>A fresh tombstone or marker generation: random, positive (never a valid token of another kind).</summary>
    public static long NewGeneration() => Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>A generation as the 8 big-endian bytes the scripts compare and store.</summary>
    public static byte[] EncodeGeneration(long generation)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, generation);
        return bytes;
    }

    /// <summary>A time to live in whole milliseconds, rounded up (Redis' PX resolution), at least 1.</summary>
    public static long ToMilliseconds(TimeSpan timeToLive)
    {
        var ms = timeToLive.Ticks / TimeSpan.TicksPerMillisecond;
        if (timeToLive.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            ms++;
        }

        return Math.Max(1, ms);
    }
}
