using System.ComponentModel;
using System.Globalization;

namespace CachingGen.Runtime;

/// <summary>
/// Builds cache keys <c>{prefix}:{part}[:{part}...]</c> with one canonical, culture-invariant, collision-free
/// encoding per key type. Reads (from key parameters) and writes (from the entity's <see cref="CacheKeyAttribute"/>
/// members) call the same overloads, so they always produce the same key.
/// </summary>
/// <remarks>
/// Encoding: integers in invariant decimal; <see cref="Guid"/> in lower-case "D" form; <see cref="bool"/> as
/// <c>true</c>/<c>false</c>; enums by their underlying integer (the generator casts); strings percent-encode
/// <c>%</c>, <c>:</c>, <c>{</c> and <c>}</c>, so a string can never forge a part separator or a Redis Cluster hash
/// tag, and distinct strings always give distinct keys. A null key part is a caller error.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CacheKey
{
    private const char Separator = ':';
    private const string SeparatorText = ":";

    // Numbers are formatted straight into the key: one allocation on the read path, not two.
    /// <summary>Key with one integer part.</summary>
    public static string Create(string prefix, long part)
    {
        Span<char> digits = stackalloc char[20];
        part.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
        return string.Concat(prefix.AsSpan(), SeparatorText, digits[..written]);
    }

    /// <summary>Key with one unsigned integer part.</summary>
    public static string Create(string prefix, ulong part)
    {
        Span<char> digits = stackalloc char[20];
        part.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
        return string.Concat(prefix.AsSpan(), SeparatorText, digits[..written]);
    }

    /// <summary>Key with one string part.</summary>
    public static string Create(string prefix, string part) => string.Concat(prefix, ":", Part(part));

    /// <summary>Key with one <see cref="Guid"/> part.</summary>
    public static string Create(string prefix, Guid part) => string.Concat(prefix, ":", Part(part));

    /// <summary>Key with one boolean part.</summary>
    public static string Create(string prefix, bool part) => string.Concat(prefix, ":", Part(part));

    /// <summary>Key from parts already encoded with the <c>Part</c> overloads (composite keys).</summary>
    public static string Create(string prefix, params string[] encodedParts)
    {
        ArgumentNullException.ThrowIfNull(encodedParts);
        return string.Concat(prefix, ":", string.Join(Separator, encodedParts));
    }

    /// <summary>Encodes an integer part.</summary>
    public static string Part(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Encodes an unsigned integer part.</summary>
    public static string Part(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Encodes a <see cref="Guid"/> part.</summary>
    public static string Part(Guid value) => value.ToString("D", CultureInfo.InvariantCulture);

    /// <summary>Encodes a boolean part.</summary>
    public static string Part(bool value) => value ? "true" : "false";

    /// <summary>Encodes a character part.</summary>
    public static string Part(char value) => Part(value.ToString());

    /// <summary>Encodes a string part: <c>%</c>, <c>:</c>, <c>{</c> and <c>}</c> are percent-encoded.</summary>
    public static string Part(string value)
    {
        if (value is null)
        {
            throw new ArgumentNullException(nameof(value), "A cache key part is null. Key members and key parameters must not be null; give the entity its key before caching it.");
        }

        if (value.AsSpan().IndexOfAny("%:{}") < 0)
        {
            return value;
        }

        var builder = new System.Text.StringBuilder(value.Length + 8);
        foreach (var character in value)
        {
            _ = character switch
            {
                '%' => builder.Append("%25"),
                ':' => builder.Append("%3A"),
                '{' => builder.Append("%7B"),
                '}' => builder.Append("%7D"),
                _ => builder.Append(character),
            };
        }

        return builder.ToString();
    }
}
