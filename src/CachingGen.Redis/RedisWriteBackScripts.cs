namespace CachingGen.Redis;

/// <summary>
/// The Lua scripts of <see cref="RedisWriteBackLog"/>. Every key a script touches carries the shard's hash tag
/// (<see cref="RedisKeyLayout"/>), so each runs in one Redis Cluster slot.
/// </summary>
/// <remarks>
/// A stream entry has two fields: <c>k</c>, the entity key (so even a damaged record is uncounted from its key when it
/// is dead-lettered), and <c>d</c>, the packed record (<see cref="RedisWriteBackRecordFormat"/>; entries of earlier
/// versions have one field per member, and are still read). The pending hash counts unacknowledged records per entity key; the stream holds only unacknowledged
/// records (an acknowledgement deletes the entry), so its length is the backlog. The attempts hash counts the failed
/// apply attempts of a pending record (by stream id), so they survive a change of the shard's owner.
/// </remarks>
internal static class RedisWriteBackScripts
{
    public const string GroupName = "cachinggen-flusher";

    /// <summary>
    /// The only places where the write-back log touches a cache entry. They assume the store's layout
    /// (<see cref="RedisEntryFormat"/>): a value is <c>'V'</c> + envelope, a tombstone is <c>'T'</c> + generation, a
    /// write (SET) voids every outstanding fill token because the fill script refuses a key that holds a value.
    /// </summary>
    internal static class CacheFragments
    {
        /// <summary>Pins the written value (KEYS[1] = entry, ARGV[1] = 'V' + envelope): a SET without expiry, exactly
        /// what <see cref="RedisCacheStore.SetManyAsync"/> does for a null time to live; it replaces any tombstone.</summary>
        public const string Pin = "redis.call('SET', KEYS[1], ARGV[1])\n";

        /// <summary>Defines <c>unpin(key, ttl, tombstone, life)</c>: gives a pinned value its time to live (ms). A value
        /// (versioned or not) that already has a time to live is not the pinned write-back value: a fill or write slipped in while the record
        /// was pending (another process's direct write, an eviction and refill), and it may be older than the row the
        /// flush just committed, so it becomes a tombstone (<c>life</c> ms): a tombstone only costs the next read a
        /// database trip. Markers, tombstones and empty keys are left alone. Returns 1 when the entry changed.</summary>
        public const string UnpinFunction = """
            local function unpin(key, ttl, tombstone, life)
              local tag = redis.call('GETRANGE', key, 0, 0)
              if tag ~= 'V' and tag ~= 'N' then return 0 end
              if tag == 'V' and redis.call('PTTL', key) == -1 then redis.call('PEXPIRE', key, ttl) return 1 end
              redis.call('SET', key, tombstone, 'PX', life)
              return 1
            end

            """;

        /// <summary>Defines <c>invalidate(key, tombstone, life)</c>: replaces the entry by a tombstone living
        /// <c>life</c> ms, as the store's invalidation. Returns 1.</summary>
        public const string InvalidateFunction = """
            local function invalidate(key, tombstone, life)
              redis.call('SET', key, tombstone, 'PX', life)
              return 1
            end

            """;
    }

    /// <summary>
    /// Append. KEYS: entry, stream, pending hash. ARGV: 'V'+envelope, entity key, packed record
    /// (<see cref="RedisWriteBackRecordFormat"/>), max backlog (0 = none). Returns the stream id, or nil when the shard
    /// is full (nothing written).
    /// </summary>
    public static readonly RedisScripts Append = new(
        "if tonumber(ARGV[4]) > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[4]) then return false end\n" +
        CacheFragments.Pin +
        """
        redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
        return redis.call('XADD', KEYS[2], '*', 'k', ARGV[2], 'd', ARGV[3])
        """);

    /// <summary>
    /// Read as the shard's owner. KEYS: lease, stream, attempts hash. ARGV: consumer, lease ms, group, count, after
    /// ('0' = from the oldest). Takes the lease when it is free (and then claims every pending entry of the group: the
    /// previous owner's, and reads from the oldest whatever <c>after</c> says), renews it when held by this consumer,
    /// and returns {-1} when another consumer holds it. Otherwise returns {acquired, id, deliveries, failed attempts,
    /// fields, ...}: this consumer's pending entries after <c>after</c> (oldest first), then new ones, up to count.
    /// </summary>
    public static readonly RedisScripts Read = new("""
        local holder = redis.call('GET', KEYS[1])
        local acquired = 0
        if not holder then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          acquired = 1
          local cursor = '0-0'
          repeat
            local claimed = redis.call('XAUTOCLAIM', KEYS[2], ARGV[3], ARGV[1], 0, cursor, 'COUNT', 1000, 'JUSTID')
            cursor = claimed[1]
          until cursor == '0-0'
        elseif holder ~= ARGV[1] then
          return {-1}
        else
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        local count = tonumber(ARGV[4])
        local after = ARGV[5]
        if acquired == 1 then
          after = '0'
        end
        local out = {acquired}
        local deliveries = {}
        local from = '-'
        if after ~= '0' then
          from = '(' .. after
        end
        for _, p in ipairs(redis.call('XPENDING', KEYS[2], ARGV[3], from, '+', count, ARGV[1])) do
          deliveries[p[1]] = p[4]
        end
        local got = 0
        local anyFailed = redis.call('EXISTS', KEYS[3]) == 1
        local history = redis.call('XREADGROUP', 'GROUP', ARGV[3], ARGV[1], 'COUNT', count, 'STREAMS', KEYS[2], after)
        if history and history[1] then
          for _, e in ipairs(history[1][2]) do
            if e[2] then
              table.insert(out, e[1])
              table.insert(out, (deliveries[e[1]] or 0) + 1)
              table.insert(out, anyFailed and tonumber(redis.call('HGET', KEYS[3], e[1]) or 0) or 0)
              table.insert(out, e[2])
              got = got + 1
            end
          end
        end
        if got < count then
          local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[3], ARGV[1], 'COUNT', count - got, 'STREAMS', KEYS[2], '>')
          if fresh and fresh[1] then
            for _, e in ipairs(fresh[1][2]) do
              table.insert(out, e[1])
              table.insert(out, 1)
              table.insert(out, 0)
              table.insert(out, e[2])
            end
          end
        end
        return out
        """);

    /// <summary>
    /// Defines <c>acknowledge(stream, pending, attempts, group, first, last, left)</c>: ARGV[first..last] are (id, entity
    /// key) pairs. Each entry still pending is acknowledged, uncounted from its key (<c>left[key]</c> becomes the key's
    /// remaining count) and forgotten by the attempts hash, and leaves the stream; entries acknowledged before are
    /// skipped. Returns how many.
    /// </summary>
    /// <remarks>
    /// Acknowledged entries leave the stream by one <c>XTRIM MINID</c> up to the oldest entry still pending in the group
    /// (every older entry was delivered, since delivery is in id order, and is no longer pending, so it is acknowledged),
    /// and only entries newer than that one (acknowledged out of order, past a record that is being retried) by
    /// <c>XDEL</c>. Redis finds an entry to delete by walking its stream node from the start, up to a hundred entries of
    /// ten fields each, so deleting each flushed entry cost about 8.5 µs of server time per record; the trim drops whole
    /// nodes and walks at most one. Either way the stream keeps only unacknowledged entries, so its length stays the
    /// backlog.
    /// </remarks>
    private const string AcknowledgeFunction = """
        local function older(a, b)
          local da, db = string.find(a, '-', 1, true), string.find(b, '-', 1, true)
          local ma, mb = tonumber(string.sub(a, 1, da - 1)), tonumber(string.sub(b, 1, db - 1))
          return ma < mb or (ma == mb and tonumber(string.sub(a, da + 1)) < tonumber(string.sub(b, db + 1)))
        end
        local function acknowledge(stream, pending, attempts, group, first, last, left)
          local n = 0
          local acknowledged = {}
          local newest = nil
          local anyFailed = redis.call('EXISTS', attempts) == 1
          for i = first, last, 2 do
            if redis.call('XACK', stream, group, ARGV[i]) == 1 then
              acknowledged[#acknowledged + 1] = ARGV[i]
              if newest == nil or older(newest, ARGV[i]) then newest = ARGV[i] end
              if anyFailed then redis.call('HDEL', attempts, ARGV[i]) end
              local count = redis.call('HINCRBY', pending, ARGV[i + 1], -1)
              if count <= 0 then redis.call('HDEL', pending, ARGV[i + 1]) end
              left[ARGV[i + 1]] = count
              n = n + 1
            end
          end
          if n > 0 then
            local dash = string.find(newest, '-', 1, true)
            local keep = string.sub(newest, 1, dash) .. string.format('%.0f', tonumber(string.sub(newest, dash + 1)) + 1)
            local summary = redis.call('XPENDING', stream, group)
            if summary[1] > 0 and older(summary[2], keep) then keep = summary[2] end
            redis.call('XTRIM', stream, 'MINID', keep)
            for _, id in ipairs(acknowledged) do
              if not older(id, keep) then redis.call('XDEL', stream, id) end
            end
          end
          return n
        end

        """;

    /// <summary>
    /// Defines <c>settle(pending, firstKey, first, life, left)</c>: KEYS[firstKey..] are cache entries of flushed keys,
    /// ARGV[first..] one (entity key, time to live ms or empty to invalidate, tombstone) triple per entry. Each entry is
    /// settled unless newer records of its key are pending: the count comes from <c>left</c> when the same script
    /// just uncounted the key, else from the pending hash. Returns how many entries changed.
    /// </summary>
    private const string SettleFunction = CacheFragments.UnpinFunction + CacheFragments.InvalidateFunction + """
        local function settle(pending, firstKey, first, life, left)
          local changed = 0
          for i = firstKey, #KEYS do
            local a = first + 3 * (i - firstKey)
            local count = left[ARGV[a]]
            if count == nil then count = tonumber(redis.call('HGET', pending, ARGV[a]) or 0) end
            if count <= 0 then
              if ARGV[a + 1] ~= '' then
                changed = changed + unpin(KEYS[i], ARGV[a + 1], ARGV[a + 2], life)
              else
                changed = changed + invalidate(KEYS[i], ARGV[a + 2], life)
              end
            end
          end
          return changed
        end

        """;

    /// <summary>
    /// Acknowledge. KEYS: stream, pending hash, attempts hash. ARGV: group, then (id, entity key) pairs. See
    /// <see cref="AcknowledgeFunction"/>. Returns how many entries were still pending.
    /// </summary>
    public static readonly RedisScripts Acknowledge = new(AcknowledgeFunction + """
        return acknowledge(KEYS[1], KEYS[2], KEYS[3], ARGV[1], 2, #ARGV, {})
        """);

    /// <summary>
    /// Acknowledge a flushed batch and settle its keys in one step (one round trip, and the settle reads the counts the
    /// acknowledgement left instead of the pending hash). KEYS: stream, pending hash, attempts hash, then the keys'
    /// cache entries. ARGV: group, record count N, N (id, entity key) pairs, tombstone life ms, then one (entity key,
    /// time to live ms or empty, tombstone) triple per entry. Returns {acknowledged, changed}.
    /// </summary>
    public static readonly RedisScripts AcknowledgeAndSettle = new(AcknowledgeFunction + SettleFunction + """
        local left = {}
        local last = 2 + 2 * tonumber(ARGV[2])
        local n = acknowledge(KEYS[1], KEYS[2], KEYS[3], ARGV[1], 3, last, left)
        return {n, settle(KEYS[2], 4, last + 2, ARGV[last + 1], left)}
        """);

    /// <summary>
    /// Dead-letter. KEYS: stream, pending hash, dead-letter stream, attempts hash. ARGV: group, id, entity key, error,
    /// time (ms), repository, method, idempotency key, arguments, enqueue ms, ttl ms. Moves the record (with its error)
    /// when it is still pending; returns 1, or 0 when it was acknowledged before.
    /// </summary>
    public static readonly RedisScripts DeadLetter = new("""
        if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('XDEL', KEYS[1], ARGV[2])
        redis.call('HDEL', KEYS[4], ARGV[2])
        if redis.call('HINCRBY', KEYS[2], ARGV[3], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[3]) end
        redis.call('XADD', KEYS[3], '*', 'id', ARGV[2], 'error', ARGV[4], 'at', ARGV[5], 'k', ARGV[3], 'r', ARGV[6], 'm', ARGV[7], 'i', ARGV[8], 'a', ARGV[9], 't', ARGV[10], 'l', ARGV[11])
        return 1
        """);

    /// <summary>
    /// Count a failed apply attempt. KEYS: stream, attempts hash. ARGV: id. Returns the record's failed attempts so far,
    /// or 0 when it is no longer in the stream (acknowledged or dead-lettered meanwhile: nothing to count).
    /// </summary>
    public static readonly RedisScripts FailedAttempt = new("""
        if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
        return redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
        """);

    /// <summary>
    /// Settle the flushed keys of one shard, each unless newer records of it are pending. KEYS: the shard's pending
    /// hash, then the keys' cache entries (all carry the shard's hash tag). ARGV: tombstone life ms, then per key:
    /// entity key, time to live ms (empty: invalidate), tombstone. Returns how many entries changed.
    /// </summary>
    public static readonly RedisScripts Settle = new(SettleFunction + """
        return settle(KEYS[1], 2, 2, ARGV[1], {})
        """);
}
