using System.Security.Cryptography;
using System.Text;

namespace CachingGen.Redis;

/// <summary>The Lua scripts of <see cref="RedisCacheStore"/>. Each touches only <c>KEYS[1]</c>, so it is valid in
/// Redis Cluster, and reads at most the first 9 bytes of the stored string (never copies a large value into Lua).</summary>
internal sealed class RedisScripts
{
    /// <summary>
    /// Compare-and-set fill. ARGV[1]: what the miss saw (the 9-byte tombstone header, "F" for foreign bytes, empty
    /// for an absent key); ARGV[2]: the stored value; ARGV[3]: time to live in ms. The fill is stored when the key is
    /// absent, still holds the same tombstone, or (for "F") still holds foreign bytes; it is refused when the key
    /// holds a value or another tombstone. Returns 1 when stored, 0 when refused.
    /// </summary>
    public static readonly RedisScripts Fill = new(@"
local head = redis.call('GETRANGE', KEYS[1], 0, 8)
if head ~= '' then
  local tag = string.byte(head, 1)
  if tag == 86 then
    return 0
  end
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

    /// <summary>Gives a value (tag 'V') a time to live. ARGV[1]: time to live in ms. Returns 1, or 0 when the key holds
    /// no value (absent, tombstone or foreign bytes).</summary>
    public static readonly RedisScripts Expire = new(@"
if redis.call('GETRANGE', KEYS[1], 0, 0) == 'V' then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 1
end
return 0
");

    internal RedisScripts(string source)
    {
        Source = source;
        Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(source));
    }

    /// <summary>The Lua source (sent with EVAL when the server does not know the script).</summary>
    public string Source { get; }

    /// <summary>The SHA1 of the source (sent with EVALSHA).</summary>
    public byte[] Sha1 { get; }
}
