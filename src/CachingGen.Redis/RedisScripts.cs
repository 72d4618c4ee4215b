using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace CachingGen.Redis;

/// <summary>The Lua scripts of <see cref="RedisCacheStore"/>. Each touches only <c>KEYS[1]</c>, so it is valid in
/// Redis Cluster, and reads at most the first 32 bytes of the stored string (never copies a large value into Lua).
/// Each also has a multi-key twin (<see cref="Many"/>) that runs the same steps for every key it is given, so that the
/// write pipeline can apply the script commands of one batch in one call per hash slot instead of one per key.</summary>
internal sealed partial class RedisScripts
{
    /// <summary>
    /// Compare-and-set fill after a miss on a tombstone or on foreign bytes (a miss on an absent key fills with
    /// <c>SET NX</c>, which is what this script does for an empty ARGV[1]). It reads the first 10 bytes: enough to tell a write marker. A value, versioned or not, is never replaced ('N' counts as one from 9 bytes on, as
    /// <see cref="RedisEntryFormat.Parse"/> reads it: shorter is foreign bytes, which a foreign fill may overwrite). ARGV[1]: what the miss saw (the 9-byte tombstone header, "F" for foreign bytes, empty
    /// for an absent key); ARGV[2]: the stored value; ARGV[3]: time to live in ms. The fill is stored when the key is
    /// absent, still holds the same tombstone, or (for "F") still holds foreign bytes; it is refused when the key
    /// holds a value, a write marker or another tombstone. Returns 1 when stored, 0 when refused.
    /// </summary>
    public static readonly RedisScripts Fill = new(3, @"
local head = redis.call('GETRANGE', KEYS[1], 0, 9)
if head ~= '' then
  local tag = string.byte(head, 1)
  local flag = string.byte(head, 10)
  if tag == 86 or (tag == 78 and #head >= 9) or (tag == 87 and (flag == 48 or flag == 49)) then
    return 0
  end
  head = string.sub(head, 1, 9)
  if tag == 84 and #head == 9 and string.byte(head, 2) < 128 and string.sub(head, 2) ~= string.rep('\0', 8) then
    if head ~= ARGV[1] then
      return 0
    end
  elseif ARGV[1] ~= 'F' then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
");

    /// <summary>
    /// Begins a write-through. ARGV[1]: the new 8-byte generation; ARGV[2]: the lease in ms. Replaces whatever the key
    /// holds by a write marker; when a marker is already there its in-flight count goes up by one and it becomes
    /// contended. Returns 1; or 0, writing nothing, when the key holds a pinned value (no time to live: a write-back
    /// entry whose record may still be pending).
    /// </summary>
    public static readonly RedisScripts BeginWrite = new(2, @"
local head = redis.call('GETRANGE', KEYS[1], 0, 31)
local tag = string.byte(head, 1)
local count = 0
if tag == 87 and #head >= 11 then
  count = tonumber(string.sub(head, 11)) or 0
elseif tag == 86 and redis.call('PTTL', KEYS[1]) == -1 then
  return 0
end
local contended = '0'
if count > 0 then
  contended = '1'
end
redis.call('SET', KEYS[1], 'W' .. ARGV[1] .. contended .. (count + 1), 'PX', ARGV[2])
return 1
");

    /// <summary>
    /// Completes a write-through. ARGV[1]: the writer's 8-byte generation; ARGV[2]: '1' when the database write
    /// committed; ARGV[3]: the stored value ('V' + payload); ARGV[4]: its time to live in ms; ARGV[5]: a new 8-byte
    /// generation; ARGV[6]: the tombstone lifetime in ms. On a marker with other writers in flight: count - 1, new
    /// generation, contended, same expiry (returns 2). On the writer's own uncontended marker after a commit: stores
    /// the value (returns 0). On a pinned value (a write-back entry): leaves it (returns 3). Anything else (contended,
    /// failed write, another marker, no marker at all): a tombstone (returns 1).
    /// </summary>
    public static readonly RedisScripts CompleteWrite = new(6, @"
local head = redis.call('GETRANGE', KEYS[1], 0, 31)
local tag = string.byte(head, 1)
if tag == 87 and #head >= 11 then
  local count = tonumber(string.sub(head, 11)) or 1
  if count > 1 then
    redis.call('SET', KEYS[1], 'W' .. ARGV[5] .. '1' .. (count - 1), 'KEEPTTL')
    return 2
  end
  if ARGV[2] == '1' and string.sub(head, 10, 10) == '0' and string.sub(head, 2, 9) == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
    return 0
  end
elseif tag == 86 and redis.call('PTTL', KEYS[1]) == -1 then
  return 3
end
redis.call('SET', KEYS[1], 'T' .. ARGV[5], 'PX', ARGV[6])
return 1
");

    /// <summary>
    /// The one step of a versioned write-through (after the database write). ARGV[1]: the versioned value ('N', the
    /// 8-byte sortable version, the payload); ARGV[2]: its time to live in ms; ARGV[3]: a new 8-byte generation (of the
    /// tombstone or the contended marker); ARGV[4]: the tombstone lifetime in ms. On a versioned value: stores ARGV[1] when the cached version is
    /// lower (returns 0), leaves it when it is higher (returns 1), and leaves the tombstone when they are equal (two
    /// writes of one version may differ); the versions are compared byte by byte, because Lua compares strings with the
    /// server's locale. On a pinned value (a write-back entry): leaves it (returns 3). On a write marker: makes it
    /// contended under a new generation, same count and expiry, so its writer leaves a tombstone (returns 2). Anything
    /// else (absent, tombstone, a value without version, foreign bytes): the tombstone (returns 2), because an absent or
    /// unversioned key cannot tell an older write from a newer one.
    /// </summary>
    public static readonly RedisScripts SetIfNewer = new(4, @"
local head = redis.call('GETRANGE', KEYS[1], 0, 31)
local tag = string.byte(head, 1)
if tag == 78 and #head >= 9 then
  for i = 2, 9 do
    local cached = string.byte(head, i)
    local written = string.byte(ARGV[1], i)
    if cached ~= written then
      if cached > written then
        return 1
      end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      return 0
    end
  end
elseif tag == 86 and redis.call('PTTL', KEYS[1]) == -1 then
  return 3
elseif tag == 87 and #head >= 11 and (string.byte(head, 10) == 48 or string.byte(head, 10) == 49) then
  redis.call('SET', KEYS[1], 'W' .. ARGV[3] .. '1' .. string.sub(head, 11), 'KEEPTTL')
  return 2
end
redis.call('SET', KEYS[1], 'T' .. ARGV[3], 'PX', ARGV[4])
return 2
");

    /// <summary>Gives a value (tag 'V' or 'N') a time to live. ARGV[1]: time to live in ms. Returns 1, or 0 when the key holds
    /// no value (absent, tombstone or foreign bytes).</summary>
    public static readonly RedisScripts Expire = new(1, @"
local head = redis.call('GETRANGE', KEYS[1], 0, 8)
local tag = string.sub(head, 1, 1)
if tag == 'V' or (tag == 'N' and #head == 9) then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 1
end
return 0
");

    /// <summary>Invalidates unless the key holds a pinned value (tag 'V' without a time to live: a write-back entry not
    /// flushed yet). ARGV[1]: the tombstone ('T' + generation); ARGV[2]: its lifetime in ms. Returns 1 when the pinned
    /// value was kept, 0 when the tombstone was written.</summary>
    public static readonly RedisScripts InvalidateUnlessPinned = new(2, @"
if redis.call('GETRANGE', KEYS[1], 0, 0) == 'V' and redis.call('PTTL', KEYS[1]) == -1 then
  return 1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
");

    /// <summary>A script with keys of its own (no multi-key twin): the write-back log's.</summary>
    internal RedisScripts(string source)
        : this(source, argumentsPerKey: 0, many: null)
    {
    }

    private RedisScripts(int argumentsPerKey, string source)
        : this(source, argumentsPerKey, ToMany(source, argumentsPerKey))
    {
    }

    private RedisScripts(string source, int argumentsPerKey, RedisScripts? many)
    {
        Source = source;
        Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(source));
        ArgumentsPerKey = argumentsPerKey;
        Many = many;
    }

    /// <summary>The Lua source (sent with EVAL when the server does not know the script).</summary>
    public string Source { get; }

    /// <summary>The SHA1 of the source (sent with EVALSHA).</summary>
    public byte[] Sha1 { get; }

    /// <summary>How many ARGV entries one key takes.</summary>
    public int ArgumentsPerKey { get; }

    /// <summary>
    /// The same steps for every key in KEYS: key i takes ARGV entries <c>(i - 1) * ArgumentsPerKey + 1</c> to
    /// <c>i * ArgumentsPerKey</c>, and the reply is an array holding, per key, what the single-key script returns. The
    /// keys are handled in order, so two commands for one key apply in the order they were queued. A key whose steps
    /// fail (a foreign value of another type under it) gets an error in its place; the other keys are still handled, so
    /// one bad key fails only its own command, as it would on its own. Null on the twin itself.
    /// </summary>
    public RedisScripts? Many { get; }

    /// <summary>Wraps the single-key body in a function of (key, argument offset) and calls it for every key.</summary>
    private static RedisScripts ToMany(string source, int argumentsPerKey)
    {
        var body = ArgumentReference().Replace(source.Replace("KEYS[1]", "key", StringComparison.Ordinal), "ARGV[offset + $1]");
        var many = new StringBuilder()
            .Append("local function run(key, offset)").Append(body).Append("end\n")
            .Append("local replies = {}\n")
            .Append("for i = 1, #KEYS do\n")
            .Append("  local ok, reply = pcall(run, KEYS[i], (i - 1) * ").Append(argumentsPerKey).Append(")\n")
            .Append("  if ok then\n")
            .Append("    replies[i] = reply\n")
            .Append("  elseif type(reply) == 'table' and reply.err then\n")
            .Append("    replies[i] = reply\n")
            .Append("  else\n")
            .Append("    replies[i] = { err = tostring(reply) }\n")
            .Append("  end\n")
            .Append("end\n")
            .Append("return replies\n")
            .ToString();
        return new RedisScripts(many, argumentsPerKey, many: null);
    }

    [GeneratedRegex(@"ARGV\[(\d+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex ArgumentReference();
}
