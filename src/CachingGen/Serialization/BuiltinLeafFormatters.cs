using System.Collections;
using System.ComponentModel;
using System.Numerics;
using System.Text;
using MessagePack.Formatters;

namespace CachingGen.Serialization;

/// <summary>
/// MessagePack's own formatters for the leaf types the generated resolvers do not generate a formatter for
/// (primitives, <see cref="string"/>, <see cref="decimal"/>, <see cref="DateTime"/>, <c>byte[]</c>, <see cref="Guid"/>,
/// <see cref="DateTimeOffset"/>, <see cref="TimeSpan"/>, <see cref="DateOnly"/>, <see cref="TimeOnly"/>,
/// <see cref="Uri"/>, <see cref="Version"/>, <see cref="BigInteger"/>, <see cref="Complex"/>,
/// <see cref="StringBuilder"/>, <see cref="BitArray"/>), named one by one. They write exactly the bytes
/// MessagePack's <c>BuiltinResolver</c> writes, but without it: its fallback for types it does not list builds formatter
/// types at run time (<c>MakeGenericType</c>), which Native AOT cannot guarantee and reports as a warning for every
/// application that reaches it. The generated resolvers call this for the types they have no entry of their own for.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BuiltinLeafFormatters
{
    /// <summary>The formatter for <typeparamref name="T"/>, or null when <typeparamref name="T"/> is not a leaf type.</summary>
    public static IMessagePackFormatter<T>? Get<T>() => Cache<T>.Formatter;

    private static object? Create(Type type)
    {
        if (type == typeof(bool)) return BooleanFormatter.Instance;
        if (type == typeof(char)) return CharFormatter.Instance;
        if (type == typeof(sbyte)) return SByteFormatter.Instance;
        if (type == typeof(byte)) return ByteFormatter.Instance;
        if (type == typeof(short)) return Int16Formatter.Instance;
        if (type == typeof(ushort)) return UInt16Formatter.Instance;
        if (type == typeof(int)) return Int32Formatter.Instance;
        if (type == typeof(uint)) return UInt32Formatter.Instance;
        if (type == typeof(long)) return Int64Formatter.Instance;
        if (type == typeof(ulong)) return UInt64Formatter.Instance;
        if (type == typeof(float)) return SingleFormatter.Instance;
        if (type == typeof(double)) return DoubleFormatter.Instance;
        if (type == typeof(decimal)) return DecimalFormatter.Instance;
        if (type == typeof(string)) return NullableStringFormatter.Instance;
        if (type == typeof(DateTime)) return DateTimeFormatter.Instance;
        if (type == typeof(byte[])) return ByteArrayFormatter.Instance;
        if (type == typeof(Guid)) return GuidFormatter.Instance;
        if (type == typeof(DateTimeOffset)) return DateTimeOffsetFormatter.Instance;
        if (type == typeof(TimeSpan)) return TimeSpanFormatter.Instance;
        if (type == typeof(DateOnly)) return DateOnlyFormatter.Instance;
        if (type == typeof(TimeOnly)) return TimeOnlyFormatter.Instance;
        if (type == typeof(Uri)) return UriFormatter.Instance;
        if (type == typeof(Version)) return VersionFormatter.Instance;
        if (type == typeof(BigInteger)) return BigIntegerFormatter.Instance;
        if (type == typeof(Complex)) return ComplexFormatter.Instance;
        if (type == typeof(StringBuilder)) return StringBuilderFormatter.Instance;
        if (type == typeof(BitArray)) return BitArrayFormatter.Instance;
        return null;
    }

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter = (IMessagePackFormatter<T>?)Create(typeof(T));
    }
}
