using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using CachingGen.Benchmarks.Entities;
using CachingGen.Generated;
using MessagePack;

namespace CachingGen.Benchmarks.Serialization;

/// <summary>
/// <c>-- --paired-serialization</c>: the serialize + deserialize ratio of the generated formatters to StandardResolver,
/// measured so that foreign load cancels out (like <see cref="Decorators.PairedDecoratorCheck"/>). BenchmarkDotNet
/// measures the rows of <see cref="SerializationBenchmarks"/> one after the other; for the 10-byte SmallRecord a
/// burst of load on one row moves its ratio by a factor of two. Here the contenders alternate in short slices and the
/// ratio is the median of the per-round ratios. Printed only: the committed results stay BenchmarkDotNet's.
/// </summary>
public static class PairedSerializationCheck
{
    private const int Rounds = 200;
    private const int OperationsPerSlice = 2_000;

    public static void Run()
    {
        Measure(Payload.SmallRecord, SampleData.Preference(42));
        Measure(Payload.NestedRecord, SampleData.Order());
        Measure(Payload.Document1KiB, SampleData.Document(1024));
    }

    private static void Measure<T>(Payload payload, T value)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        var contenders = new (string Name, MessagePackSerializerOptions Options)[]
        {
            ("StandardResolver", MessagePackSerializerOptions.Standard),
            ("generated", CachingGenFormatterResolver.Options),
            ("generated, trusted data", CachingGenFormatterResolver.Options.WithSecurity(MessagePackSecurity.TrustedData)),
        };
        var ratios = contenders.Select(_ => new double[Rounds]).ToArray();
        var clock = new Stopwatch();
        for (var round = -Rounds / 10; round < Rounds; round++)
        {
            var times = new double[contenders.Length];
            for (var c = 0; c < contenders.Length; c++)
            {
                // Rotate the order, so no contender always runs right after another.
                var index = (c + Math.Max(round, 0)) % contenders.Length;
                var options = contenders[index].Options;
                clock.Restart();
                for (var i = 0; i < OperationsPerSlice; i++)
                {
                    buffer.ResetWrittenCount();
                    MessagePackSerializer.Serialize(buffer, value, options);
                    _ = MessagePackSerializer.Deserialize<T>(buffer.WrittenMemory, options);
                }

                times[index] = clock.Elapsed.TotalMilliseconds;
            }

            for (var c = 0; round >= 0 && c < contenders.Length; c++)
            {
                ratios[c][round] = times[c] / times[0];
            }
        }

        for (var c = 1; c < contenders.Length; c++)
        {
            Array.Sort(ratios[c]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[bench] paired serialization {payload}, {contenders[c].Name} / StandardResolver: median {ratios[c][Rounds / 2]:0.000} of the time (interquartile {ratios[c][Rounds / 4]:0.000}-{ratios[c][Rounds * 3 / 4]:0.000}), {1 / ratios[c][Rounds / 2]:0.00}x as fast"));
        }
    }
}
