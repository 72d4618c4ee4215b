using CachingGen.Generated;
using CachingGen.Redis;
using CachingGen.Runtime;
using CachingGen.Serialization;
using Preferences;
using StackExchange.Redis;

namespace CachingGen.IntegrationTests.Support;

/// <summary>What a key holds in Redis (docs/redis.md): nothing, a value, a cached "not found", a tombstone, or foreign bytes.</summary>
internal enum EntryKind
{
    Absent,
    Value,
    NotFound,
    Tombstone,
    Foreign,
}

/// <summary>One key read directly from Redis, decoded with the runtime's own envelope.</summary>
internal sealed record CachedEntry(EntryKind Kind, Preference? Value, TimeSpan? TimeToLive, byte[]? Raw)
{
    /// <summary>Why foreign bytes did not decode (for assertion messages).</summary>
    public string? Reason { get; init; }
}

/// <summary>Reads and writes the cache's keys directly in Redis, bypassing the decorator and the store.</summary>
/// <param name="keyNamespace">The stack's Redis key prefix.</param>
/// <param name="fillsSettled">Completes when no read's fill is still on its way (reads return before their fill is
/// stored): every look at Redis waits for it, so it sees what the reads before it left.</param>
internal sealed class RedisView(string keyNamespace, Func<Task> fillsSettled)
{
    /// <summary>The schema fingerprint this build stores with every preference.</summary>
    public static readonly ulong Fingerprint = ((ISchemaFingerprintProvider)CachingGenFormatterResolver.Instance).GetSchemaFingerprint<Preference>();

    private readonly IDatabase _redis = StackEnvironment.RedisConnection.GetDatabase();

    public static string KeyOf(long userId) => CacheKey.Create("pref", userId);

    public async Task<CachedEntry> ReadAsync(string cacheKey)
    {
        await fillsSettled();
        var key = keyNamespace + cacheKey;
        var raw = (byte[]?)await _redis.StringGetAsync(key);
        var ttl = await _redis.KeyTimeToLiveAsync(key);
        if (raw is null)
        {
            return new CachedEntry(EntryKind.Absent, null, null, null);
        }

        if (raw.Length > 0 && raw[0] == (byte)'T')
        {
            return new CachedEntry(EntryKind.Tombstone, null, ttl, raw);
        }

        if (RedisEntryFormat.Parse(raw) is { Found: true } hit
            && CacheEnvelope.TryDecode<Preference>(hit.Value, Fingerprint, CachingGenFormatterResolver.Options, out var value, out _))
        {
            return new CachedEntry(value is null ? EntryKind.NotFound : EntryKind.Value, value, ttl, raw);
        }

        return new CachedEntry(EntryKind.Foreign, null, ttl, raw) { Reason = Describe(raw) };
    }

    private static string Describe(byte[] raw)
    {
        if (RedisEntryFormat.Parse(raw) is not { Found: true } hit)
        {
            return "(not a value of the store's layout)";
        }

        CacheEnvelope.TryDecode<Preference>(hit.Value, Fingerprint, CachingGenFormatterResolver.Options, out _, out var reason);
        return $"({reason}; {Convert.ToHexString(raw)})";
    }

    public Task<CachedEntry> ReadAsync(long userId) => ReadAsync(KeyOf(userId));

    /// <summary>Asserts the key holds <paramref name="expected"/> as a decodable value that expires in
    /// <paramref name="ttlSeconds"/> (less the few seconds a loaded machine may take).</summary>
    public Task AssertValueAsync(long userId, Preference expected, int ttlSeconds) => AssertValueAsync(KeyOf(userId), expected, ttlSeconds);

    /// <summary>Asserts the key holds <paramref name="expected"/> as a decodable value that expires in
    /// <paramref name="ttlSeconds"/>.</summary>
    public async Task AssertValueAsync(string cacheKey, Preference expected, int ttlSeconds)
    {
        var entry = await ReadAsync(cacheKey);
        Assert.True(entry.Kind == EntryKind.Value, $"expected a value, found {entry.Kind} {entry.Reason}");
        Assert.Equal(expected, entry.Value);
        AssertTimeToLive(entry, ttlSeconds);
    }

    public static void AssertTimeToLive(CachedEntry entry, int seconds)
    {
        Assert.True(entry.TimeToLive.HasValue, $"expected a TTL of {seconds} s, found none ({entry.Kind})");
        Assert.InRange(entry.TimeToLive.Value.TotalSeconds, seconds - 10, seconds);
    }

    /// <summary>Writes bytes under a cache key as another program (or another build) would.</summary>
    public Task PutRawAsync(long userId, byte[] bytes, TimeSpan timeToLive)
        => _redis.StringSetAsync(keyNamespace + KeyOf(userId), bytes, timeToLive);

    /// <summary>The bytes of a valid value entry, as this build's store writes them for a versioned entity: 'N', the
    /// version as 8 big-endian bytes with the sign bit flipped, the envelope.</summary>
    public static byte[] ValueBytes(Preference preference, ulong fingerprint)
        => RedisEntryFormat.EncodeVersionedValue(preference.Version, CacheEnvelope.Encode(preference, fingerprint, CachingGenFormatterResolver.Options).Span);

    public async Task DeleteNamespaceAsync()
    {
        foreach (var endpoint in StackEnvironment.RedisConnection.GetEndPoints())
        {
            var server = StackEnvironment.RedisConnection.GetServer(endpoint);
            var keys = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(pattern: keyNamespace + "*", pageSize: 500))
            {
                keys.Add(key);
            }

            if (keys.Count > 0)
            {
                await _redis.KeyDeleteAsync(keys.ToArray());
            }
        }
    }
}
