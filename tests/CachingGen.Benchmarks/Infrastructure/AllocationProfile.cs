using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using CachingGen.Benchmarks.Decorators;
using CachingGen.Benchmarks.Entities;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>
/// <c>-- --profile-allocations</c>: where a read path allocates, by type. Runs each path many times with the runtime's
/// allocation sampling on (one <c>GCAllocationTick</c> event about every 100 KB, naming the type allocated) and prints
/// the share of each type, next to the exact bytes per read. Reads: the in-memory hit of <c>DecoratorOverheadBenchmarks</c>
/// and, with CACHINGGEN_REDIS set, the Redis hit and miss of the generated decorator and the hand-written code.
/// </summary>
public static class AllocationProfile
{
    /// <param name="dry">A few reads only (the dry run), proving the profile still runs.</param>
    public static async Task RunAsync(bool dry = false)
    {
        var reads = dry ? 200 : 200_000;
        var decorator = new DecoratorOverheadBenchmarks();
        decorator.Setup();
        await ProfileAsync("in-memory hit, generated decorator", _ => decorator.Generated(), reads);
        await ProfileAsync("in-memory hit, hand-written decorator", _ => decorator.HandWritten(), reads);
        decorator.Cleanup();

        if (!RedisBenchmarkEnvironment.IsAvailable)
        {
            Console.WriteLine("[profile] " + RedisBenchmarkEnvironment.MissingMessage);
            return;
        }

        foreach (var (name, create) in new (string, Func<IPreferenceRepository, PreferenceReader>)[]
                 {
                     ("generated decorator", inner => PreferenceReader.Generated(CacheLevel.Redis, inner)),
                     ("hand-written", PreferenceReader.HandWrittenRedis),
                 })
        {
            await using var reader = create(new InMemoryPreferenceRepository());
            await reader.SeedAsync(SampleData.Preference(1));
            await ProfileAsync($"Redis hit, {name}", _ => reader.GetAsync(1), reads / 10);
            var next = 50_000_000L + Random.Shared.Next(1_000_000) * 100L;
            await ProfileAsync($"Redis miss, {name}", _ => reader.GetAsync(Interlocked.Increment(ref next)), reads / 10);
        }
    }

    private static async Task ProfileAsync(string name, Func<int, ValueTask<Preference?>> read, int reads)
    {
        for (var i = 0; i < Math.Min(reads, 2_000); i++)
        {
            await read(i);
        }

        using var listener = new AllocationListener();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < reads; i++)
        {
            await read(i);
        }

        var perRead = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)reads;
        var samples = listener.Snapshot();
        var total = samples.Values.Sum();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[profile] {name}: {perRead:0} B per read (whole process); sampled types:"));
        foreach (var (type, bytes) in samples.OrderByDescending(kv => kv.Value).Take(12))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[profile]   {bytes * 100.0 / Math.Max(total, 1),5:0.0}%  ~{bytes * perRead / Math.Max(total, 1),6:0} B/read  {type}"));
        }
    }

    /// <summary>Sums the sampled allocation amounts per type name.</summary>
    private sealed class AllocationListener : EventListener
    {
        private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
        private volatile bool _recording;

        public AllocationListener() => _recording = true;

        public Dictionary<string, long> Snapshot()
        {
            _recording = false;
            return new Dictionary<string, long>(_bytes, StringComparer.Ordinal);
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (!_recording || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
            {
                return;
            }

            var names = eventData.PayloadNames!;
            var type = names.IndexOf("TypeName") is var t and >= 0 ? eventData.Payload[t] as string ?? "?" : "?";
            var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(eventData.Payload[a], CultureInfo.InvariantCulture) : 100_000;
            _bytes.AddOrUpdate(type, amount, (_, old) => old + amount);
        }
    }
}
