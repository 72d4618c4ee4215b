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
        var lookup = await store.GetAsync(key, CancellationToken.None);
        var ttl = await TimeToLiveAsync(key);
        if (lookup.Found)
        {
            var bytes = lookup.Value;
            if (bytes.Length >= EnvelopeHeaderSize && bytes.Span[1] == NotFoundKind)
            {
                return $"{key} = cached \"not found\"{ttl}";
            }

            var preference = MessagePackSerializer.Deserialize<Preference>(bytes[EnvelopeHeaderSize..], CachingGen.Generated.CachingGenFormatterResolver.Options);
            return $"{key} = {Describe(preference)}{ttl}";
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
