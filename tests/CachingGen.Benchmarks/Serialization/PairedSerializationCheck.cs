using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using CachingGen.Benchmarks.Entities;
using CachingGen.Benchmarks.Infrastructure;
using CachingGen.Generated;
using MessagePack;

namespace CachingGen.Benchmarks.Serialization;

/// <summary>
/// <c>-- --paired-serialization</c>: the serialize + deserialize ratio of the generated formatters to StandardResolver,
/// measured so that foreign load cancels out (like <see cref="Decorators.PairedDecoratorCheck"/>). BenchmarkDotNet
/// measures the rows of <see cref="SerializationBenchmarks"/> one after the other; for the 10-byte SmallRecord a
/// burst of load on one row moves its ratio by a factor of two. Here the contenders alternate in short slices and the
/// ratio is the median of the per-round ratios. The generated formatters' median speed-up is recorded in the facts
/// next to BenchmarkDotNet's rows, and the report shows both, with the control (StandardResolver timed against itself
/// in the same rounds) that shows the check itself favours no one.
/// </summary>
public static class PairedSerializationCheck
{
    private const string ControlName = "StandardResolver again";

    private static readonly PairedScale Full = new(Rounds: 200, OperationsPerSlice: 2_000, WarmupRounds: 20);

    /// <param name="resultsDirectory">Where facts.json is merged.</param>
    /// <param name="dry">Runs a few tiny rounds only (CI), proving the check still runs.</param>
    public static void Run(string resultsDirectory, bool dry = false)
    {
        var scale = dry ? PairedScale.Dry : Full;
        Measure(Payload.SmallRecord, SampleData.Preference(42), scale);
        Measure(Payload.NestedRecord, SampleData.Order(), scale);
        Measure(Payload.Document1KiB, SampleData.Document(1024), scale);
        Measure(Payload.Document10KiB, SampleData.Document(10 * 1024), scale);
        BenchmarkFacts.Set("serialization.pairedRounds", scale.Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
    }

    private static void Measure<T>(Payload payload, T value, PairedScale scale)
    {
        var rounds = scale.Rounds;
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        var contenders = new (string Name, MessagePackSerializerOptions Options)[]
        {
            ("StandardResolver", MessagePackSerializerOptions.Standard),
            ("generated", CachingGenFormatterResolver.Options),
            ("generated, trusted data", CachingGenFormatterResolver.Options.WithSecurity(MessagePackSecurity.TrustedData)),

            // The control: the baseline timed against itself in the same rounds. Its median must read 1.00x; if it does
            // not, the check favours a position in the rotation and none of its ratios is a verdict (GoalVerdict).
            (ControlName, MessagePackSerializerOptions.Standard),
        };
        var ratios = contenders.Select(_ => new double[rounds]).ToArray();
        var clock = new Stopwatch();
        for (var round = -scale.WarmupRounds; round < rounds; round++)
        {
            var times = new double[contenders.Length];
            for (var c = 0; c < contenders.Length; c++)
            {
                // Rotate the order, so no contender always runs right after another.
                var index = (c + Math.Max(round, 0)) % contenders.Length;
                var options = contenders[index].Options;
                clock.Restart();
                for (var i = 0; i < scale.OperationsPerSlice; i++)
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
            var ratio = PairedRatio.Of(ratios[c], ratios[^1]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[bench] paired serialization {payload}, {contenders[c].Name} / StandardResolver: median {ratio.Median:0.000} of the time (interquartile {ratio.Interquartile}), {1 / ratio.Median:0.00}x as fast"));
        }

        // Speed-ups (StandardResolver's time over ours), so the ranges read low-high like the median.
        var generated = PairedRatio.Of(ratios[1], ratios[^1]).Inverted();
        BenchmarkFacts.Set($"serialization.{payload}.pairedControl", generated.ControlMedian.ToString("0.000", CultureInfo.InvariantCulture));
        BenchmarkFacts.Set($"serialization.{payload}.pairedControlInterquartile", generated.ControlInterquartile);
        BenchmarkFacts.Set($"serialization.{payload}.pairedSpeedup", generated.Median.ToString("0.000", CultureInfo.InvariantCulture));
        BenchmarkFacts.Set($"serialization.{payload}.pairedSpeedupInterquartile", generated.Interquartile);
        BenchmarkFacts.Set($"serialization.{payload}.pairedSpeedupInterval", generated.Interval);
    }
}
