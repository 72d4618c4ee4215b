using System.Text;
using CachingGen.Redis;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging;
using CachingGen.TestSupport;
using StackExchange.Redis;

namespace CachingGen.Redis.Tests;

public sealed class RedisWriteBackLogTests
{
    private const int Shards = 4;

    /// <summary>The lease of the take-over tests: short, so that they wait little for an owner to "die", yet long enough
    /// that a loaded 2-core CI machine stalling a test for most of a second (RedisTestEnvironment.FailFastBound) does not
    /// let the standby take over between two steps that expect the owner to hold the shard.</summary>
    private static readonly TimeSpan TakeOverLease = TimeSpan.FromSeconds(1);

    [RedisFact]
    public async Task Append_pins_the_entry_and_logs_the_record_in_one_slot_and_the_flush_cycle_unpins_it()
    {
        var (store, log) = Create();
        var record = Record("pref:42", 1);
        await log.AppendAsync(record, new CacheEntry("pref:42", Payload(1), null), default);

        var shard = WriteBackSharding.ShardOf("pref:42", Shards);
        var redisKey = store.GetRedisKey("pref:42");
        Assert.Contains($"{{cg-wb:{shard}}}", redisKey);
        Assert.Equal(RedisCacheStore.GetHashSlot(redisKey), RedisCacheStore.GetHashSlot(redisKey.Replace("pref:42", "log", StringComparison.Ordinal)));
        Assert.Null(await RedisTestEnvironment.Shared.GetDatabase().KeyTimeToLiveAsync(redisKey));
        Assert.Equal(1, await log.GetPendingCountAsync("pref:42", default));
        Assert.Equal(1, await log.GetBacklogAsync(shard, default));
        Assert.NotNull(await log.GetOldestPendingAsync(shard, default));

        var read = await log.ReadAsync(shard, 10, default);
        var pending = Assert.Single(read);
        Assert.Equal(record.IdempotencyKey, pending.Record.IdempotencyKey);
        Assert.Equal(record.Arguments.ToArray(), pending.Record.Arguments.ToArray());
        Assert.Equal(record.TimeToLive, pending.Record.TimeToLive);
        Assert.Equal(record.EnqueuedAt.ToUnixTimeMilliseconds(), pending.Record.EnqueuedAt.ToUnixTimeMilliseconds());
        Assert.True(log.OwnsShard(shard));

        // Not acknowledged: handed out again, oldest first, with a higher delivery count.
        var again = Assert.Single(await log.ReadAsync(shard, 10, default));
        Assert.Equal(pending.Position, again.Position);
        Assert.True(again.DeliveryCount > pending.DeliveryCount);

        await log.AcknowledgeAsync(shard, read, default);
        await log.AcknowledgeAsync(shard, read, default);
        Assert.Equal(0, await log.GetPendingCountAsync("pref:42", default));
        Assert.Equal(0, await log.GetBacklogAsync(shard, default));
        Assert.Null(await log.GetOldestPendingAsync(shard, default));

        await log.SettleAsync("pref:42", TimeSpan.FromMinutes(5), default);
        var ttl = await RedisTestEnvironment.Shared.GetDatabase().KeyTimeToLiveAsync(redisKey);
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        var lookup = await store.GetAsync("pref:42", default);
        Assert.True(lookup.Found);
        Assert.Equal(Payload(1).ToArray(), lookup.Value.ToArray());
    }

    [RedisTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Settle_turns_a_value_that_slipped_in_over_the_pin_into_a_tombstone(bool versioned)
    {
        // A value with a time to live (unversioned, or a versioned write-through's 'N' value) is not the pinned
        // write-back value: it replaced the pin while the record was pending and may be older than the row the flush
        // just committed. Settling must not give it the record's time to live.
        var (store, log) = Create();
        await log.AppendAsync(Record("pref:55", 1), new CacheEntry("pref:55", Payload(1), null), default);
        var shard = WriteBackSharding.ShardOf("pref:55", Shards);
        var read = await log.ReadAsync(shard, 10, default);
        await log.AcknowledgeAsync(shard, read, default);

        var slippedIn = versioned ? RedisEntryFormat.EncodeVersionedValue(3, Payload(0).Span) : RedisEntryFormat.EncodeValue(Payload(0).Span);
        var database = RedisTestEnvironment.Shared.GetDatabase();
        await database.StringSetAsync(store.GetRedisKey("pref:55"), slippedIn, TimeSpan.FromMinutes(10));
        Assert.True((await store.GetAsync("pref:55", default)).Found);

        await log.SettleAsync("pref:55", TimeSpan.FromMinutes(5), default);
        var lookup = await store.GetAsync("pref:55", default);
        Assert.False(lookup.Found);
        var stored = (byte[]?)await database.StringGetAsync(store.GetRedisKey("pref:55"));
        Assert.NotNull(stored);
        Assert.True(RedisEntryFormat.TryReadTombstone(stored, out _, out _));
    }

    [RedisFact]
    public async Task Records_of_a_key_are_read_in_acknowledgement_order_and_settle_waits_for_the_last_one()
    {
        var (store, log) = Create();
        for (var version = 1; version <= 5; version++)
        {
            await log.AppendAsync(Record("pref:7", version), new CacheEntry("pref:7", Payload(version), null), default);
        }

        var shard = WriteBackSharding.ShardOf("pref:7", Shards);
        var read = await log.ReadAsync(shard, 3, default);
        Assert.Equal(new[] { "pref:7@1", "pref:7@2", "pref:7@3" }, read.Select(r => r.Record.IdempotencyKey));
        await log.AcknowledgeAsync(shard, read, default);
        Assert.Equal(2, await log.GetPendingCountAsync("pref:7", default));

        // Newer records are pending: settling the acknowledged ones must not unpin the entry.
        await log.SettleAsync("pref:7", TimeSpan.FromSeconds(30), default);
        Assert.Null(await RedisTestEnvironment.Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey("pref:7")));
        var rest = await log.ReadAsync(shard, 10, default);
        Assert.Equal(new[] { "pref:7@4", "pref:7@5" }, rest.Select(r => r.Record.IdempotencyKey));
    }

    [RedisFact]
    public async Task Acknowledged_entries_leave_the_stream_in_order_by_trimming_and_out_of_order_by_deleting()
    {
        var (store, log) = Create();
        for (var version = 1; version <= 6; version++)
        {
            await log.AppendAsync(Record("pref:9", version), new CacheEntry("pref:9", Payload(version), null), default);
        }

        var shard = WriteBackSharding.ShardOf("pref:9", Shards);
        var stream = store.KeyLayout.Log(shard);
        var database = RedisTestEnvironment.Shared.GetDatabase();
        var read = await log.ReadAsync(shard, 3, default);

        // In order: the acknowledged prefix is trimmed; nothing is deleted entry by entry (Redis records the newest
        // id an XDEL removed, and XTRIM leaves it alone).
        await log.AcknowledgeAsync(shard, read.Take(2).ToList(), default);
        Assert.Equal(4, await log.GetBacklogAsync(shard, default));
        Assert.Equal("0-0", await MaxDeletedIdAsync(database, stream));
        var oldest = await database.StreamRangeAsync(stream, "-", "+", 1);
        Assert.Equal(read[2].Position, (string)oldest[0].Id!);

        // Out of order: record 3 stays pending (as if it were being retried) while 4 and 5 are acknowledged. They
        // must leave the stream, and record 3 must stay in it.
        var rest = await log.ReadAsync(shard, 10, default);
        Assert.Equal(new[] { "pref:9@3", "pref:9@4", "pref:9@5", "pref:9@6" }, rest.Select(r => r.Record.IdempotencyKey));
        await log.AcknowledgeAsync(shard, new[] { rest[1], rest[2] }, default);
        Assert.Equal(2, await log.GetBacklogAsync(shard, default));
        Assert.Equal(new[] { rest[0].Position, rest[3].Position }, (await database.StreamRangeAsync(stream, "-", "+")).Select(e => (string)e.Id!));
        Assert.Equal(2, await log.GetPendingCountAsync("pref:9", default));

        // Acknowledging the held-back record and the last one empties the stream; a retried acknowledgement is a no-op.
        await log.AcknowledgeAsync(shard, new[] { rest[3], rest[0] }, default);
        await log.AcknowledgeAsync(shard, rest, default);
        Assert.Equal(0, await log.GetBacklogAsync(shard, default));
        Assert.Equal(0, await log.GetPendingCountAsync("pref:9", default));
        Assert.Null(await log.GetOldestPendingAsync(shard, default));

        // The log goes on after the trims: new records are read, in order, and nothing older comes back.
        await log.AppendAsync(Record("pref:9", 7), new CacheEntry("pref:9", Payload(7), null), default);
        var next = Assert.Single(await log.ReadAsync(shard, 10, default));
        Assert.Equal("pref:9@7", next.Record.IdempotencyKey);
        await log.AcknowledgeAsync(shard, new[] { next }, default);
        Assert.Equal(0, await log.GetBacklogAsync(shard, default));
    }

    [Fact]
    public void A_packed_record_round_trips_every_member()
    {
        var arguments = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        foreach (var original in new[]
        {
            Record("pref:1", 1) with { Coalesce = true },
            new WriteBackRecord("Repo", "M()", "ctr:é", "ctr:é@1", arguments, DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_123)),
        })
        {
            Assert.True(RedisWriteBackRecordFormat.TryDecode(RedisWriteBackRecordFormat.Encode(original), out var decoded));
            Assert.Equal(original.Repository, decoded.Repository);
            Assert.Equal(original.Method, decoded.Method);
            Assert.Equal(original.EntityKey, decoded.EntityKey);
            Assert.Equal(original.IdempotencyKey, decoded.IdempotencyKey);
            Assert.Equal(original.Arguments.ToArray(), decoded.Arguments.ToArray());
            Assert.Equal(original.EnqueuedAt.ToUnixTimeMilliseconds(), decoded.EnqueuedAt.ToUnixTimeMilliseconds());
            Assert.Equal(original.TimeToLive, decoded.TimeToLive);
            Assert.Equal(original.Coalesce, decoded.Coalesce);
        }

        Assert.False(RedisWriteBackRecordFormat.TryDecode(Encoding.UTF8.GetBytes("not a record"), out _));
        Assert.False(RedisWriteBackRecordFormat.TryDecode(RedisWriteBackRecordFormat.Encode(Record("pref:1", 1)).AsMemory(0, 10), out _));

        // A huge enqueue time or time to live (damaged bytes) is not a record, not an exception that stalls the shard.
        var huge = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(huge);
        writer.WriteArrayHeader(9);
        writer.Write(1);
        writer.Write("R");
        writer.Write("M");
        writer.Write("k");
        writer.Write("i");
        writer.Write(new byte[] { 1 });
        writer.Write(ulong.MaxValue);
        writer.Write(ulong.MaxValue);
        writer.Write(false);
        writer.Flush();
        Assert.False(RedisWriteBackRecordFormat.TryDecode(huge.WrittenMemory, out _));
    }

    [RedisFact]
    public async Task Entries_of_the_earlier_one_field_per_member_layout_are_still_read_and_a_damaged_entry_becomes_an_empty_record()
    {
        var (store, log) = Create();
        var database = RedisTestEnvironment.Shared.GetDatabase();
        var shard = WriteBackSharding.ShardOf("pref:77", Shards);
        await log.ReadAsync(shard, 1, default); // creates the group and takes the shard
        var stream = store.KeyLayout.Log(shard);
        await database.StreamAddAsync(stream, new NameValueEntry[]
        {
            new("k", "pref:77"), new("r", "Sample.IPreferenceRepository"), new("m", "UpdateAsync(Sample.Preference)"), new("i", "pref:77@3"),
            new("a", Encoding.UTF8.GetBytes("args-3")), new("t", 1_790_000_000_000L), new("l", 300_000L), new("c", "1"),
        });
        await database.StreamAddAsync(stream, new NameValueEntry[] { new("k", "pref:78"), new(RedisWriteBackRecordFormat.Field, Encoding.UTF8.GetBytes("damaged")) });

        var read = await log.ReadAsync(shard, 10, default);
        Assert.Equal(2, read.Count);
        var old = read[0].Record;
        Assert.Equal(("Sample.IPreferenceRepository", "UpdateAsync(Sample.Preference)", "pref:77", "pref:77@3"), (old.Repository, old.Method, old.EntityKey, old.IdempotencyKey));
        Assert.Equal("args-3", Encoding.UTF8.GetString(old.Arguments.Span));
        Assert.Equal(1_790_000_000_000L, old.EnqueuedAt.ToUnixTimeMilliseconds());
        Assert.Equal(TimeSpan.FromMinutes(5), old.TimeToLive);
        Assert.True(old.Coalesce);

        // The flusher cannot dispatch a record without a repository or method: it dead-letters it, visibly, and the
        // entity key beside the damaged field uncounts the right key.
        Assert.Equal(string.Empty, read[1].Record.Repository);
        Assert.Equal(string.Empty, read[1].Record.Method);
        Assert.Equal("pref:78", read[1].Record.EntityKey);
    }

    [RedisFact]
    public async Task Settle_leaves_a_tombstone_when_the_entry_is_no_longer_the_pinned_value()
    {
        // The pinned entry was replaced while its record was pending (another process's direct write, an eviction and
        // a refill): that value may be older than the row the flush just committed, so the settle must not renew it.
        var (store, log) = Create();
        await log.AppendAsync(Record("pref:9", 1), new CacheEntry("pref:9", Payload(1), null), default);
        var shard = WriteBackSharding.ShardOf("pref:9", Shards);
        var read = await log.ReadAsync(shard, 10, default);
        await store.SetManyAsync([new CacheEntry("pref:9", Payload(0), TimeSpan.FromMinutes(10))], default);
        await log.AcknowledgeAsync(shard, read, default);

        await log.SettleAsync("pref:9", TimeSpan.FromMinutes(5), default);

        var lookup = await store.GetAsync("pref:9", default);
        Assert.False(lookup.Found);
        Assert.False(lookup.WriteInProgress);
        var ttl = await RedisTestEnvironment.Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey("pref:9"));
        Assert.NotNull(ttl);

        // A settle of a key that holds nothing (or a tombstone) changes nothing.
        await log.SettleAsync("pref:9", TimeSpan.FromMinutes(5), default);
        Assert.False((await store.GetAsync("pref:9", default)).Found);
    }

    [RedisFact]
    public async Task SettleMany_settles_every_key_of_a_batch_by_its_own_state()
    {
        var (store, log) = Create();
        var database = RedisTestEnvironment.Shared.GetDatabase();

        // 24 keys over the 4 shards: flushed and pinned (gets its time to live), flushed but replaced meanwhile (a
        // tombstone), dead-lettered (invalidated), and flushed with newer records still pending (stays pinned).
        var keys = Enumerable.Range(0, 24).Select(i => $"pref:{1000 + i}").ToArray();
        foreach (var key in keys)
        {
            await log.AppendAsync(Record(key, 1), new CacheEntry(key, Payload(1), null), default);
        }

        var read = new List<PendingWriteBack>();
        for (var shard = 0; shard < Shards; shard++)
        {
            var ofShard = await log.ReadAsync(shard, 100, default);
            read.AddRange(ofShard);
            await log.AcknowledgeAsync(shard, ofShard, default);
        }

        Assert.Equal(keys.Length, read.Count);
        string[] Kind(int kind) => keys.Where((_, i) => i % 4 == kind).ToArray();
        foreach (var key in Kind(1))
        {
            await store.SetManyAsync([new CacheEntry(key, Payload(0), TimeSpan.FromMinutes(10))], default);
        }

        foreach (var key in Kind(3))
        {
            await log.AppendAsync(Record(key, 2), new CacheEntry(key, Payload(2), null), default);
        }

        var settles = keys.Select((key, i) => (key, i % 4 == 2 ? (TimeSpan?)null : TimeSpan.FromMinutes(5))).ToList();
        await log.SettleManyAsync(settles, default);

        foreach (var key in Kind(0))
        {
            var lookup = await store.GetAsync(key, default);
            Assert.True(lookup.Found, key);
            Assert.Equal(Payload(1).ToArray(), lookup.Value.ToArray());
            Assert.InRange((await database.KeyTimeToLiveAsync(store.GetRedisKey(key)))!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        }

        foreach (var key in Kind(1).Concat(Kind(2)))
        {
            Assert.False((await store.GetAsync(key, default)).Found, key);
            Assert.NotNull(await database.KeyTimeToLiveAsync(store.GetRedisKey(key)));
        }

        foreach (var key in Kind(3))
        {
            var lookup = await store.GetAsync(key, default);
            Assert.True(lookup.Found, key);
            Assert.Equal(Payload(2).ToArray(), lookup.Value.ToArray());
            Assert.Null(await database.KeyTimeToLiveAsync(store.GetRedisKey(key)));
        }
    }

    [RedisFact]
    public async Task AcknowledgeAndSettle_acknowledges_a_batch_and_settles_each_key_by_the_counts_it_leaves_in_one_step()
    {
        var (store, log) = Create();
        var database = RedisTestEnvironment.Shared.GetDatabase();
        var keys = Enumerable.Range(0, 400).Select(i => $"pref:{2000 + i}").Where(k => WriteBackSharding.ShardOf(k, Shards) == 0).Take(5).ToArray();
        var (single, halfFlushed, bothFlushed, invalidated, settledBefore) = (keys[0], keys[1], keys[2], keys[3], keys[4]);

        // settledBefore's record is acknowledged by an earlier call (its count comes from the pending hash); the others'
        // records are in the batch, except halfFlushed's second one, which stays pending.
        await log.AppendAsync(Record(settledBefore, 1), new CacheEntry(settledBefore, Payload(1), null), default);
        await log.AcknowledgeAsync(0, await log.ReadAsync(0, 10, default), default);
        foreach (var (key, versions) in new[] { (single, 1), (halfFlushed, 2), (bothFlushed, 2), (invalidated, 1) })
        {
            for (var version = 1; version <= versions; version++)
            {
                await log.AppendAsync(Record(key, version), new CacheEntry(key, Payload(version), null), default);
            }
        }

        var read = await log.ReadAsync(0, 10, default);
        var batch = read.Where(r => r.Record.IdempotencyKey != $"{halfFlushed}@2").ToList();
        Assert.Equal(5, batch.Count);
        var settles = new List<(string, TimeSpan?)>
        {
            (single, TimeSpan.FromMinutes(5)), (halfFlushed, TimeSpan.FromMinutes(5)), (bothFlushed, TimeSpan.FromMinutes(5)),
            (invalidated, null), (settledBefore, TimeSpan.FromMinutes(5)),
        };
        await log.AcknowledgeAndSettleAsync(0, batch, settles, default);

        Assert.Equal(1, await log.GetBacklogAsync(0, default));
        Assert.Equal(1, await log.GetPendingCountAsync(halfFlushed, default));
        foreach (var (key, version) in new[] { (single, 1), (bothFlushed, 2), (settledBefore, 1) })
        {
            var lookup = await store.GetAsync(key, default);
            Assert.True(lookup.Found, key);
            Assert.Equal(Payload(version).ToArray(), lookup.Value.ToArray());
            Assert.InRange((await database.KeyTimeToLiveAsync(store.GetRedisKey(key)))!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        }

        Assert.Null(await database.KeyTimeToLiveAsync(store.GetRedisKey(halfFlushed)));
        Assert.False((await store.GetAsync(invalidated, default)).Found);

        // A retried call (its reply was lost) acknowledges nothing twice and leaves the pending record alone.
        await log.AcknowledgeAndSettleAsync(0, batch, settles.Take(3).ToList(), default);
        Assert.Equal(1, await log.GetBacklogAsync(0, default));
        Assert.Null(await database.KeyTimeToLiveAsync(store.GetRedisKey(halfFlushed)));
        Assert.Equal($"{halfFlushed}@2", Assert.Single(await log.ReadAsync(0, 10, default)).Record.IdempotencyKey);

        var foreign = Enumerable.Range(0, 100).Select(i => $"pref:{i}").First(k => WriteBackSharding.ShardOf(k, Shards) != 0);
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AcknowledgeAndSettleAsync(0, batch, [(foreign, null)], default));
    }

    [RedisFact]
    public async Task A_second_flusher_reads_nothing_until_the_owner_lease_expires_then_takes_over_its_pending_records()
    {
        var keyNamespace = RedisTestEnvironment.UniqueNamespace();
        var (_, owner) = Create(keyNamespace, o => { o.LeaseDuration = TakeOverLease; o.ConsumerName = "owner"; });
        var (_, standby) = Create(keyNamespace, o => { o.LeaseDuration = TakeOverLease; o.ConsumerName = "standby"; });
        await owner.AppendAsync(Record("pref:1", 1), new CacheEntry("pref:1", Payload(1), null), default);
        await owner.AppendAsync(Record("pref:1", 2), new CacheEntry("pref:1", Payload(2), null), default);
        var shard = WriteBackSharding.ShardOf("pref:1", Shards);

        var taken = await owner.ReadAsync(shard, 1, default);
        Assert.Equal("pref:1@1", Assert.Single(taken).Record.IdempotencyKey);
        Assert.Equal(1, owner.OwnershipChanges(shard));
        Assert.Empty(await standby.ReadAsync(shard, 10, default));
        Assert.False(standby.OwnsShard(shard));
        Assert.Equal(0, standby.OwnershipChanges(shard));

        // The owner dies holding record 1 unacknowledged; after the lease the standby gets both, in order.
        await Task.Delay(TakeOverLease * 1.5);
        var moved = await standby.ReadAsync(shard, 10, default);
        Assert.Equal(new[] { "pref:1@1", "pref:1@2" }, moved.Select(r => r.Record.IdempotencyKey));
        Assert.True(standby.OwnsShard(shard));
        Assert.Equal(1, standby.OwnershipChanges(shard));
        Assert.False(owner.OwnsShard(shard));
        Assert.Empty(await owner.ReadAsync(shard, 10, default));
        Assert.Equal(2, owner.OwnershipChanges(shard));

        // Releasing the lease hands the shard over at once; the flusher learns it changed owners twice meanwhile.
        await standby.DisposeAsync();
        Assert.Equal(2, (await owner.ReadAsync(shard, 10, default)).Count);
        Assert.Equal(3, owner.OwnershipChanges(shard));
    }

    [RedisFact]
    public async Task Reading_after_a_position_skips_older_pending_records_except_right_after_a_take_over()
    {
        var keyNamespace = RedisTestEnvironment.UniqueNamespace();
        var (_, owner) = Create(keyNamespace, o => { o.LeaseDuration = TakeOverLease; o.ConsumerName = "owner"; });
        var (_, standby) = Create(keyNamespace, o => { o.LeaseDuration = TakeOverLease; o.ConsumerName = "standby"; });
        for (var version = 1; version <= 5; version++)
        {
            await owner.AppendAsync(Record("pref:3", version), new CacheEntry("pref:3", Payload(version), null), default);
        }

        var shard = WriteBackSharding.ShardOf("pref:3", Shards);
        var first = await owner.ReadAsync(shard, 2, default);
        Assert.Equal(new[] { "pref:3@1", "pref:3@2" }, first.Select(r => r.Record.IdempotencyKey));

        // Pending records after the position (3 and 4 are new, delivered now), then none older than it.
        var next = await owner.ReadAsync(shard, 2, first[1].Position, default);
        Assert.Equal(new[] { "pref:3@3", "pref:3@4" }, next.Select(r => r.Record.IdempotencyKey));
        var pendingAfter = await owner.ReadAsync(shard, 10, first[0].Position, default);
        Assert.Equal(new[] { "pref:3@2", "pref:3@3", "pref:3@4", "pref:3@5" }, pendingAfter.Select(r => r.Record.IdempotencyKey));
        Assert.True(pendingAfter[0].DeliveryCount > 1);
        Assert.Empty(await owner.ReadAsync(shard, 10, pendingAfter[^1].Position, default));

        // A new owner took the records over: it reads them from the oldest, whatever position it is given.
        await Task.Delay(TakeOverLease * 1.5);
        var moved = await standby.ReadAsync(shard, 10, pendingAfter[^1].Position, default);
        Assert.Equal(new[] { "pref:3@1", "pref:3@2", "pref:3@3", "pref:3@4", "pref:3@5" }, moved.Select(r => r.Record.IdempotencyKey));
        Assert.Equal(new[] { "pref:3@4", "pref:3@5" }, (await standby.ReadAsync(shard, 10, moved[2].Position, default)).Select(r => r.Record.IdempotencyKey));
    }

    [RedisFact]
    public async Task Failed_attempts_survive_a_change_of_owner_and_are_forgotten_once_the_record_leaves_the_log()
    {
        var keyNamespace = RedisTestEnvironment.UniqueNamespace();
        var (_, owner) = Create(keyNamespace, o => { o.LeaseDuration = TakeOverLease; o.ConsumerName = "owner"; });
        var (_, standby) = Create(keyNamespace, o => { o.LeaseDuration = TakeOverLease; o.ConsumerName = "standby"; });
        await owner.AppendAsync(Record("pref:1", 1), new CacheEntry("pref:1", Payload(1), null), default);
        await owner.AppendAsync(Record("pref:1", 2), new CacheEntry("pref:1", Payload(2), null), default);
        await owner.AppendAsync(Record("pref:1", 3), new CacheEntry("pref:1", Payload(3), null), default);
        var shard = WriteBackSharding.ShardOf("pref:1", Shards);

        var first = await owner.ReadAsync(shard, 10, default);
        Assert.All(first, r => Assert.Equal(0, r.FailedAttempts));
        Assert.Equal(1, await owner.RecordFailedAttemptAsync(first[0], default));
        Assert.Equal(2, await owner.RecordFailedAttemptAsync(first[0], default));
        Assert.Equal(1, await owner.RecordFailedAttemptAsync(first[1], default));
        Assert.Equal(new[] { 2, 1, 0 }, (await owner.ReadAsync(shard, 10, default)).Select(r => r.FailedAttempts));

        // The owner dies; the standby takes the shard over with the counts, and goes on counting from them.
        await Task.Delay(TakeOverLease * 1.5);
        var moved = await standby.ReadAsync(shard, 10, default);
        Assert.Equal(new[] { "pref:1@1", "pref:1@2", "pref:1@3" }, moved.Select(r => r.Record.IdempotencyKey));
        Assert.Equal(new[] { 2, 1, 0 }, moved.Select(r => r.FailedAttempts));
        Assert.Equal(3, await standby.RecordFailedAttemptAsync(moved[0], default));

        // Dead-lettering and acknowledging forget the counts; a late failure of a record that left the log counts nothing.
        await standby.DeadLetterAsync(moved[0], "poison", default);
        await standby.AcknowledgeAsync(shard, moved.Skip(1).ToList(), default);
        Assert.Equal(0, await owner.RecordFailedAttemptAsync(first[1], default));
        var attempts = RedisTestEnvironment.Shared.GetDatabase().HashLengthAsync($"{keyNamespace}{{cg-wb:{shard}}}attempts");
        Assert.Equal(0, await attempts);
    }

    [RedisFact]
    public async Task Dead_letter_moves_the_record_with_its_error_and_unblocks_the_key()
    {
        var (_, log) = Create();
        await log.AppendAsync(Record("pref:9", 1), new CacheEntry("pref:9", Payload(1), null), default);
        var shard = WriteBackSharding.ShardOf("pref:9", Shards);
        var poison = Assert.Single(await log.ReadAsync(shard, 10, default));
        await log.DeadLetterAsync(poison, "boom: constraint violated", default);

        Assert.Equal(0, await log.GetPendingCountAsync("pref:9", default));
        Assert.Equal(0, await log.GetBacklogAsync(shard, default));
        var dead = Assert.Single(await log.ReadDeadLettersAsync(shard));
        Assert.Equal("pref:9@1", dead.Record.IdempotencyKey);
        Assert.Equal(poison.Position, dead.Position);
        Assert.Equal("boom: constraint violated", dead.Error);
        Assert.Equal(poison.Record.Arguments.ToArray(), dead.Record.Arguments.ToArray());
    }

    [RedisFact]
    public async Task A_full_shard_refuses_or_delays_appends_without_writing_anything()
    {
        var keyNamespace = RedisTestEnvironment.UniqueNamespace();
        var (store, failing) = Create(keyNamespace, o => { o.MaxBacklogPerShard = 2; o.BackPressure = WriteBackBackPressure.Fail; });
        var (_, waiting) = Create(keyNamespace, o => { o.MaxBacklogPerShard = 2; o.BackPressureTimeout = TimeSpan.FromSeconds(10); });
        await failing.AppendAsync(Record("pref:5", 1), new CacheEntry("pref:5", Payload(1), null), default);
        await failing.AppendAsync(Record("pref:5", 2), new CacheEntry("pref:5", Payload(2), null), default);

        var error = await Assert.ThrowsAsync<WriteBackBackPressureException>(async () => await failing.AppendAsync(Record("pref:5", 3), new CacheEntry("pref:5", Payload(3), null), default));
        Assert.Contains("MaxBacklogPerShard", error.Message);
        Assert.Equal(2, await failing.GetPendingCountAsync("pref:5", default));
        Assert.Equal(Payload(2).ToArray(), (await store.GetAsync("pref:5", default)).Value.ToArray());

        var shard = WriteBackSharding.ShardOf("pref:5", Shards);
        var delayed = waiting.AppendAsync(Record("pref:5", 3), new CacheEntry("pref:5", Payload(3), null), default).AsTask();
        await Task.Delay(200);
        Assert.False(delayed.IsCompleted);
        var read = await failing.ReadAsync(shard, 1, default);
        await failing.AcknowledgeAsync(shard, read, default);
        await delayed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, await failing.GetPendingCountAsync("pref:5", default));
    }

    [Fact]
    public void A_store_without_the_shard_hash_tags_is_refused_with_the_fix()
    {
        using var connection = ConnectionMultiplexer.Connect(new ConfigurationOptions { EndPoints = { "127.0.0.1:1" }, AbortOnConnectFail = false });
        var store = new RedisCacheStore(connection, new RedisCacheOptions());
        var error = Assert.Throws<InvalidOperationException>(() => new RedisWriteBackLog(connection, store, Shards));
        Assert.Contains("WriteBackShardCount", error.Message);
    }

    [Fact]
    public void Cache_keys_carry_their_shard_tag_only_when_write_back_shards_are_configured()
    {
        using var connection = ConnectionMultiplexer.Connect(new ConfigurationOptions { EndPoints = { "127.0.0.1:1" }, AbortOnConnectFail = false });
        Assert.Equal("app:pref:1", new RedisCacheStore(connection, new RedisCacheOptions { KeyNamespace = "app:" }).GetRedisKey("pref:1"));
        var sharded = new RedisCacheStore(connection, new RedisCacheOptions { KeyNamespace = "app:", WriteBackShardCount = 8 });
        Assert.Equal($"app:{{cg-wb:{WriteBackSharding.ShardOf("pref:1", 8)}}}pref:1", sharded.GetRedisKey("pref:1"));
    }

    [RedisFact]
    public async Task Start_up_refuses_a_server_that_cannot_keep_the_durability_level_or_may_evict_pending_writes()
    {
        using var server = RedisServerProcess.Start("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "allkeys-lru");
        using var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var store = new RedisCacheStore(connection, new RedisCacheOptions { WriteBackShardCount = Shards });

        var refusing = new RedisWriteBackLog(connection, store, Shards, new RedisWriteBackOptions { Durability = WriteBackDurability.Fsync });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => refusing.InitializeAsync());
        Assert.Contains("appendfsync 'everysec'", error.Message);
        Assert.Contains("CONFIG SET appendfsync always", error.Message);
        Assert.Contains("maxmemory-policy 'allkeys-lru'", error.Message);
        Assert.Contains("noeviction", error.Message);

        var warning = new RedisWriteBackLog(connection, store, Shards, new RedisWriteBackOptions { Durability = WriteBackDurability.Fsync, RefuseUnsafeServer = false }, factory.CreateLogger<RedisWriteBackLog>());
        await warning.InitializeAsync();
        Assert.Contains(logs.Messages, m => m.Contains("allkeys-lru", StringComparison.Ordinal));

        await connection.GetServers()[0].ConfigSetAsync("appendfsync", "always");
        await connection.GetServers()[0].ConfigSetAsync("maxmemory-policy", "noeviction");
        await new RedisWriteBackLog(connection, store, Shards, new RedisWriteBackOptions { Durability = WriteBackDurability.Fsync }).InitializeAsync();

        // Acknowledged promises about a second of loss on a machine crash: 'appendfsync no' cannot keep that, and without
        // the AOF no level holds.
        await connection.GetServers()[0].ConfigSetAsync("appendfsync", "no");
        var noFsync = await Assert.ThrowsAsync<InvalidOperationException>(() => new RedisWriteBackLog(connection, store, Shards, new RedisWriteBackOptions()).InitializeAsync());
        Assert.Contains("appendfsync 'no'", noFsync.Message);
        Assert.Contains("CONFIG SET appendfsync everysec", noFsync.Message);
        await connection.GetServers()[0].ConfigSetAsync("appendfsync", "everysec");
        await new RedisWriteBackLog(connection, store, Shards, new RedisWriteBackOptions()).InitializeAsync();

        await connection.GetServers()[0].ConfigSetAsync("appendonly", "no");
        var noAof = await Assert.ThrowsAsync<InvalidOperationException>(() => new RedisWriteBackLog(connection, store, Shards, new RedisWriteBackOptions()).InitializeAsync());
        Assert.Contains("appendonly 'no'", noAof.Message);
        Assert.Contains("CONFIG SET appendonly yes", noAof.Message);
    }

    private static (RedisCacheStore Store, RedisWriteBackLog Log) Create(string? keyNamespace = null, Action<RedisWriteBackOptions>? configure = null)
    {
        var store = RedisTestEnvironment.NewStore(configure: o =>
        {
            o.WriteBackShardCount = Shards;
            o.KeyNamespace = keyNamespace ?? RedisTestEnvironment.UniqueNamespace();
        });
        var options = new RedisWriteBackOptions { RefuseUnsafeServer = false };
        configure?.Invoke(options);
        return (store, new RedisWriteBackLog(RedisTestEnvironment.Shared, store, Shards, options));
    }

    private static async Task<string> MaxDeletedIdAsync(IDatabase database, RedisKey stream)
    {
        var info = (RedisResult[])(await database.ExecuteAsync("XINFO", "STREAM", stream))!;
        for (var i = 0; i + 1 < info.Length; i += 2)
        {
            if ((string)info[i]! == "max-deleted-entry-id")
            {
                return (string)info[i + 1]!;
            }
        }

        throw new InvalidOperationException("XINFO STREAM has no max-deleted-entry-id (Redis 7.0 or newer reports it).");
    }

    private static WriteBackRecord Record(string key, int version)
        => new("Sample.IPreferenceRepository", "UpdateAsync(Sample.Preference)", key, $"{key}@{version}", Encoding.UTF8.GetBytes($"args-{version}"), DateTimeOffset.UtcNow)
        {
            TimeToLive = TimeSpan.FromMinutes(5),
        };

    private static ReadOnlyMemory<byte> Payload(int version) => Encoding.UTF8.GetBytes($"envelope-{version}");
}
