using System.ComponentModel;
using MessagePack;

namespace CachingGen.Runtime;

/// <summary>
/// Serializes the arguments of a write-back call as one MessagePack array, and reads them back in the generated
/// dispatcher, through the generated formatters only.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WriteBackArguments
{
    /// <summary>Serializes one argument.</summary>
    public static byte[] Serialize<T1>(MessagePackSerializerOptions options, T1 argument1) => throw new NotImplementedException();

    /// <summary>Serializes two arguments.</summary>
    public static byte[] Serialize<T1, T2>(MessagePackSerializerOptions options, T1 argument1, T2 argument2) => throw new NotImplementedException();

    /// <summary>Serializes three arguments.</summary>
    public static byte[] Serialize<T1, T2, T3>(MessagePackSerializerOptions options, T1 argument1, T2 argument2, T3 argument3) => throw new NotImplementedException();

    /// <summary>Serializes four arguments.</summary>
    public static byte[] Serialize<T1, T2, T3, T4>(MessagePackSerializerOptions options, T1 argument1, T2 argument2, T3 argument3, T4 argument4) => throw new NotImplementedException();

    /// <summary>Reads one argument.</summary>
    public static void Deserialize<T1>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1) => throw new NotImplementedException();

    /// <summary>Reads two arguments.</summary>
    public static void Deserialize<T1, T2>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1, out T2 argument2) => throw new NotImplementedException();

    /// <summary>Reads three arguments.</summary>
    public static void Deserialize<T1, T2, T3>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1, out T2 argument2, out T3 argument3) => throw new NotImplementedException();

    /// <summary>Reads four arguments.</summary>
    public static void Deserialize<T1, T2, T3, T4>(ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, out T1 argument1, out T2 argument2, out T3 argument3, out T4 argument4) => throw new NotImplementedException();
}
