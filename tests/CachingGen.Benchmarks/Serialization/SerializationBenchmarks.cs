using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CachingGen.Benchmarks.Entities;
using CachingGen.Benchmarks.Infrastructure;
using CachingGen.Generated;
using MessagePack;
using MessagePack.Resolvers;

namespace CachingGen.Benchmarks.Serialization;

/// <summary>The payloads of <see cref="SerializationBenchmarks"/>.</summary>
public enum Payload
{
    /// <summary><see cref="Entities.Preference"/>: four scalar members.</summary>
    SmallRecord,

    /// <summary><see cref="Entities.Order"/>: nested records, a list of records, a list of strings, an enum, a date.</summary>
    NestedRecord,

    /// <summary><see cref="Entities.Document"/> of about 1 KiB.</summary>
    Document1KiB,

    /// <summary><see cref="Entities.Document"/> of about 10 KiB.</summary>
    Document10KiB,
}

/// <summary>
/// Issue 6.1: one serialize plus one deserialize of the same object, per serializer. The baseline is MessagePack's
/// <c>StandardResolver</c> (dynamic, Reflection.Emit). Before measuring, the setup checks that our generated
/// formatters write exactly the bytes the StandardResolver writes.
/// </summary>
[BenchmarkCategory("serialization")]
public class SerializationBenchmarks
{
    private static readonly MessagePackSerializerOptions Generated = CachingGenFormatterResolver.Options;

    // The product options verify untrusted data (depth limits, collision-resistant hashing); this row shows what
    // that costs by running the same generated formatters with MessagePack's default, trusting setting.
    private static readonly MessagePackSerializerOptions GeneratedTrusted = CachingGenFormatterResolver.Options.WithSecurity(MessagePackSecurity.TrustedData);
    private static readonly MessagePackSerializerOptions Standard = MessagePackSerializerOptions.Standard;
    private static readonly MessagePackSerializerOptions Contractless = ContractlessStandardResolver.Options;

    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private Utf8JsonWriter _json = null!;
    private Preference _preference = null!;
    private Order _order = null!;
    private Document _document = null!;

    [Params(Payload.SmallRecord, Payload.NestedRecord, Payload.Document1KiB, Payload.Document10KiB)]
    public Payload Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _json = new Utf8JsonWriter(_buffer);
        _preference = SampleData.Preference(42);
        _order = SampleData.Order();
        _document = SampleData.Document(Payload == Payload.Document10KiB ? 10 * 1024 : 1024);
        var (generated, standard) = Payload switch
        {
            Payload.SmallRecord => (MessagePackSerializer.Serialize(_preference, Generated), MessagePackSerializer.Serialize(_preference, Standard)),
            Payload.NestedRecord => (MessagePackSerializer.Serialize(_order, Generated), MessagePackSerializer.Serialize(_order, Standard)),
            _ => (MessagePackSerializer.Serialize(_document, Generated), MessagePackSerializer.Serialize(_document, Standard)),
        };
        if (!generated.AsSpan().SequenceEqual(standard))
        {
            throw new InvalidOperationException(
                $"{Payload}: the generated formatters wrote {generated.Length} bytes that differ from StandardResolver's {standard.Length} bytes; " +
                "the benchmark compares equal wire formats only.");
        }

        BenchmarkFacts.Set($"serialization.{Payload}.bytes", generated.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        BenchmarkFacts.Set($"serialization.{Payload}.sameBytesAsStandard", "true");
        BenchmarkFacts.Set($"serialization.{Payload}.contractlessBytes", (Payload switch
        {
            Payload.SmallRecord => MessagePackSerializer.Serialize(_preference, Contractless).Length,
            Payload.NestedRecord => MessagePackSerializer.Serialize(_order, Contractless).Length,
            _ => MessagePackSerializer.Serialize(_document, Contractless).Length,
        }).ToString(System.Globalization.CultureInfo.InvariantCulture));
        BenchmarkFacts.Set($"serialization.{Payload}.jsonBytes", (Payload switch
        {
            Payload.SmallRecord => JsonSerializer.SerializeToUtf8Bytes(_preference, BenchmarkJsonContext.Default.Preference).Length,
            Payload.NestedRecord => JsonSerializer.SerializeToUtf8Bytes(_order, BenchmarkJsonContext.Default.Order).Length,
            _ => JsonSerializer.SerializeToUtf8Bytes(_document, BenchmarkJsonContext.Default.Document).Length,
        }).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Benchmark(Baseline = true, Description = "MessagePack StandardResolver (dynamic)")]
    public object MessagePackStandard() => MessagePackRoundTrip(Standard);

    [Benchmark(Description = "CachingGen generated")]
    public object CachingGenGenerated() => MessagePackRoundTrip(Generated);

    [Benchmark(Description = "CachingGen generated, trusted data")]
    public object CachingGenGeneratedTrusted() => MessagePackRoundTrip(GeneratedTrusted);

    [Benchmark(Description = "MessagePack ContractlessStandardResolver")]
    public object MessagePackContractless() => MessagePackRoundTrip(Contractless);

    [Benchmark(Description = "System.Text.Json source-generated")]
    public object SystemTextJsonSourceGenerated() => Payload switch
    {
        Payload.SmallRecord => JsonRoundTrip(_preference, BenchmarkJsonContext.Default.Preference),
        Payload.NestedRecord => JsonRoundTrip(_order, BenchmarkJsonContext.Default.Order),
        _ => JsonRoundTrip(_document, BenchmarkJsonContext.Default.Document),
    };

    // Declared last so that BenchmarkDotNet runs it last in each payload's rows, about a minute after the baseline: the
    // same code measured twice, so the report can tell how far the machine alone moved a row in this run (GoalVerdict).
    [Benchmark(Description = "MessagePack StandardResolver (dynamic), measured again")]
    public object MessagePackStandardAgain() => MessagePackRoundTrip(Standard);

    private object MessagePackRoundTrip(MessagePackSerializerOptions options) => Payload switch
    {
        Payload.SmallRecord => MessagePackRoundTrip(_preference, options),
        Payload.NestedRecord => MessagePackRoundTrip(_order, options),
        _ => MessagePackRoundTrip(_document, options),
    };

    private T MessagePackRoundTrip<T>(T value, MessagePackSerializerOptions options)
    {
        _buffer.ResetWrittenCount();
        MessagePackSerializer.Serialize(_buffer, value, options);
        return MessagePackSerializer.Deserialize<T>(_buffer.WrittenMemory, options);
    }

    private T JsonRoundTrip<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        JsonSerializer.Serialize(_json, value, typeInfo);
        return JsonSerializer.Deserialize(_buffer.WrittenSpan, typeInfo)!;
    }
}
