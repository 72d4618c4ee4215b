using System.Globalization;
using CachingGen.Runtime;
using CachingGen.Storage;
using MessagePack;
using StackExchange.Redis;

namespace Preferences;

/// <summary>Describes what the cache holds for a user, from outside the decorator: through the store (works for
/// both stores) and, on Redis, the key's remaining time to live.</summary>
internal sealed class CacheInspector(ICacheStore store, Stack stack)
{
    // The runtime's envelope: [format][kind][8-byte schema fingerprint][MessagePack payload] (docs/architecture.md).
    private const int EnvelopeHeaderSize = 10;
    private const byte NotFoundKind = 2;

    public static string KeyOf(long userId) => CacheKey.Create("pref", userId);

    public async Task<string> DescribeAsync(long userId)
    {
        var key = KeyOf(userId);
        var (lookup, preference) = await ReadAsync(userId);
        var ttl = await TimeToLiveAsync(key);
        if (lookup.Found)
        {
            return preference is null ? $"{key} = cached \"not found\"{ttl}" : $"{key} = {Describe(preference)}{ttl}";
        }

        var fill = lookup.FillTimeToLive is { } fillTtl ? $", the next read fills it for {fillTtl.TotalSeconds:0} s" : "";
        if (stack.Inspection is null)
        {
            return $"{key} = nothing readable (a read misses){fill}";
        }

        // On Redis the raw bytes tell an invalidation tombstone ('T', docs/redis.md) from an absent key.
        var raw = (byte[]?)await stack.Inspection.GetDatabase().StringGetAsync(stack.KeyNamespace + key);
        return raw is null ? $"{key} = absent" : $"{key} = {(raw.Length > 0 && raw[0] == (byte)'T' ? "tombstone" : "foreign bytes")}{fill}{ttl}";
    }

    /// <summary>The store's answer for the user's key and, on a hit, the cached preference (null for a cached "not found").</summary>
    public async Task<(CacheLookup Lookup, Preference? Preference)> ReadAsync(long userId)
    {
        var lookup = await store.GetAsync(KeyOf(userId), CancellationToken.None);
        if (!lookup.Found || (lookup.Value.Length >= EnvelopeHeaderSize && lookup.Value.Span[1] == NotFoundKind))
        {
            return (lookup, null);
        }

        return (lookup, MessagePackSerializer.Deserialize<Preference>(lookup.Value[EnvelopeHeaderSize..], CachingGen.Generated.CachingGenFormatterResolver.Options));
    }

    public static string Describe(Preference? preference)
        => preference is null ? "null" : $"{preference.Channel} {(preference.Enabled ? "on" : "off")} v{preference.Version}";

    private async Task<string> TimeToLiveAsync(string key)
    {
        if (stack.Inspection is null)
        {
            return "";
        }

        var ttl = await stack.Inspection.GetDatabase().KeyTimeToLiveAsync(stack.KeyNamespace + key);
        return ttl is { } left ? string.Create(CultureInfo.InvariantCulture, $", TTL {left.TotalSeconds:0.0} s") : ", no TTL";
    }
}
