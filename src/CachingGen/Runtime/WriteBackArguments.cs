using System.Buffers;
using System.ComponentModel;
using MessagePack;

namespace CachingGen.Runtime;

/// <summary>
/// Serializes the arguments of a write-back call as one MessagePack array, and reads them back in the generated
/// dispatcher, through the generated formatters only.
/// </summary>
/// <remarks>Deserialization checks the array's length; a record whose arguments do not match the method (the
/// signature changed since the record was logged) or do not deserialize throws <see cref="PermanentWriteBackException"/>,
/// which the flusher dead-letters at once.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WriteBackArguments
{
    /// <summary>Serializes one argument.</summary>
    public static byte[] Serialize<T1>(MessagePackSerializerOptions options, T1 argument1)
    {
        ArgumentNullException.ThrowIfNull(options);
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(1);
        Write(ref writer, options, argument1);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes two arguments.</summary>
    public static byte[] Serialize<T1, T2>(MessagePackSerializerOptions options, T1 argument1, T2 argument2)
    {
        ArgumentNullException.ThrowIfNull(options);
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        Write(ref writer, options, argument1);
        Write(ref writer, options, argument2);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes three arguments.</summary>
    public static byte[] Serialize<T1, T2, T3>(MessagePackSerializerOptions options, T1 argument1, T2 argument2, T3 argument3)
    {
        ArgumentNullException.ThrowIfNull(options);
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        Write(ref writer, options, argument1);
        Write(ref writer, options, argument2);
        Write(ref writer, options, argument3);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes four arguments.</summary>
    public static byte[] Serialize<T1, T2, T3, T4>(MessagePackSerializerOptions options, T1 argument1, T2 argument2, T3 argument3, T4 argument4)
    {
        ArgumentNullException.ThrowIfNull(options);
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(4);
        Write(ref writer, options, argument1);
        Write(ref writer, options, argument2);
        Write(ref writer, options, argument3);
        Write(ref writer, options, argument4);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one argument.</summary>
    public static void Deserialize<T1>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = Open(arguments, 1);
        try
        {
            argument1 = Read<T1>(ref reader, options);
        }
        catch (Exception exception) when (exception is not PermanentWriteBackException)
        {
            throw Unreadable(exception);
        }
    }

    /// <summary>Reads two arguments.</summary>
    public static void Deserialize<T1, T2>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1, out T2 argument2)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = Open(arguments, 2);
        try
        {
            argument1 = Read<T1>(ref reader, options);
            argument2 = Read<T2>(ref reader, options);
        }
        catch (Exception exception) when (exception is not PermanentWriteBackException)
        {
            throw Unreadable(exception);
        }
    }

    /// <summary>Reads three arguments.</summary>
    public static void Deserialize<T1, T2, T3>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1, out T2 argument2, out T3 argument3)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = Open(arguments, 3);
        try
        {
            argument1 = Read<T1>(ref reader, options);
            argument2 = Read<T2>(ref reader, options);
            argument3 = Read<T3>(ref reader, options);
        }
        catch (Exception exception) when (exception is not PermanentWriteBackException)
        {
            throw Unreadable(exception);
        }
    }

    /// <summary>Reads four arguments.</summary>
    public static void Deserialize<T1, T2, T3, T4>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1, out T2 argument2, out T3 argument3, out T4 argument4)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = Open(arguments, 4);
        try
        {
            argument1 = Read<T1>(ref reader, options);
            argument2 = Read<T2>(ref reader, options);
            argument3 = Read<T3>(ref reader, options);
            argument4 = Read<T4>(ref reader, options);
        }
        catch (Exception exception) when (exception is not PermanentWriteBackException)
        {
            throw Unreadable(exception);
        }
    }

    private static void Write<T>(ref MessagePackWriter writer, MessagePackSerializerOptions options, T value)
        => options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, value, options);

    private static T Read<T>(ref MessagePackReader reader, MessagePackSerializerOptions options)
        => options.Resolver.GetFormatterWithVerify<T>().Deserialize(ref reader, options);

    private static MessagePackReader Open(ReadOnlyMemory<byte> arguments, int expected)
    {
        var reader = new MessagePackReader(arguments);
        int count;
        try
        {
            count = reader.ReadArrayHeader();
        }
        catch (Exception exception)
        {
            throw new PermanentWriteBackException(
                $"The write-back arguments are not a MessagePack array of {expected} argument(s).", exception);
        }

        if (count != expected)
        {
            throw new PermanentWriteBackException(
                $"The write-back arguments hold {count} argument(s) but the method takes {expected}: the method's signature " +
                "changed since the record was logged.");
        }

        return reader;
    }

    private static PermanentWriteBackException Unreadable(Exception exception)
        => new("The write-back arguments could not be deserialized with the current formatters: the argument types " +
               "changed since the record was logged. " + exception.Message, exception);
}
