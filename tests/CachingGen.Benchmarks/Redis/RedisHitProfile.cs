using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using CachingGen.Benchmarks.Decorators;
using CachingGen.Benchmarks.Entities;
using CachingGen.Benchmarks.Infrastructure;
using StackExchange.Redis;

namespace CachingGen.Benchmarks.Redis;

/// <summary>
/// <c>-- --profile-redis-hit</c>: the client CPU of one read hit through the generated decorator and through the
/// hand-written baseline, split into issuing the read (up to the <c>GET</c> being handed to the connection) and
/// completing it (from the reply to the caller's value). Both run on a stand-in connection that answers only when
/// told to, 16 reads at a time, on one thread: no network, no server and no thread-pool scheduling, which on a
/// shared two-core machine make the interleaved Redis check's ratio move by a few percent between runs while the
/// code stays the same. The stand-in answers with the bytes each contender wrote to the real Redis, so a
/// hit decodes what the real store holds. Prints the fastest of many rounds for each phase (the least disturbed),
/// and how much more the generated path costs: the number to drive down when the 16-caller hit ratio is at its limit.
/// </summary>
public static class RedisHitProfile
{
    /// <param name="dry">One tiny round only (the dry run), proving the profile still runs.</param>
    public static async Task RunAsync(bool dry = false)
    {
        var rounds = dry ? 1 : 40;
        var batchesPerRound = dry ? 10 : 4_000;
        if (!RedisBenchmarkEnvironment.IsAvailable)
        {
            throw new InvalidOperationException(RedisBenchmarkEnvironment.MissingMessage);
        }

        var generated = await StandInRedis.RecordAsync(PreferenceReader.Generated).ConfigureAwait(false);
        var handWritten = await StandInRedis.RecordAsync(PreferenceReader.HandWrittenRedis).ConfigureAwait(false);
        var generatedReader = PreferenceReader.Generated(generated.Connection, new InMemoryPreferenceRepository());
        var handWrittenReader = PreferenceReader.HandWrittenRedis(handWritten.Connection, new InMemoryPreferenceRepository());
        try
        {
            Measure(generatedReader, generated, batchesPerRound);
            Measure(handWrittenReader, handWritten, batchesPerRound);
            var generatedBest = Phases.Slowest;
            var handWrittenBest = Phases.Slowest;
            for (var round = 0; round < rounds; round++)
            {
                handWrittenBest = handWrittenBest.Fastest(Measure(handWrittenReader, handWritten, batchesPerRound));
                generatedBest = generatedBest.Fastest(Measure(generatedReader, generated, batchesPerRound));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[profile] read hit, client CPU per read (fastest of {rounds} rounds of {batchesPerRound} x {RedisReadBenchmarks.Batch} reads, stand-in connection):"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[profile]   hand-written: issue {handWrittenBest.Issue,6:0.0} ns, completion {handWrittenBest.Completion,6:0.0} ns"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[profile]   generated:    issue {generatedBest.Issue,6:0.0} ns, completion {generatedBest.Completion,6:0.0} ns"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[profile]   generated - hand-written: issue {generatedBest.Issue - handWrittenBest.Issue:0.0} ns, completion {generatedBest.Completion - handWrittenBest.Completion:0.0} ns"));
        }
        finally
        {
            await generatedReader.DisposeAsync().ConfigureAwait(false);
            await handWrittenReader.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Phases Measure(PreferenceReader reader, StandInRedis redis, int batches)
    {
        var pending = new ValueTask<Preference?>[RedisReadBenchmarks.Batch];
        long issue = 0;
        long completion = 0;
        for (var batch = 0; batch < batches; batch++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < pending.Length; i++)
            {
                pending[i] = reader.GetAsync(i + 1);
            }

            var issued = Stopwatch.GetTimestamp();
            redis.AnswerAll();
            var completed = Stopwatch.GetTimestamp();
            issue += issued - started;
            completion += completed - issued;
            for (var i = 0; i < pending.Length; i++)
            {
                if (!pending[i].IsCompletedSuccessfully || pending[i].Result != SampleData.Preference(i + 1))
                {
                    throw new InvalidOperationException($"{reader.GetType().Name} did not read the seeded preference {i + 1} from the stand-in's answer.");
                }
            }
        }

        var reads = (double)batches * pending.Length;
        return new Phases(Nanoseconds(issue) / reads, Nanoseconds(completion) / reads);
    }

    private static double Nanoseconds(long timestamps) => timestamps * 1e9 / Stopwatch.Frequency;

    private readonly record struct Phases(double Issue, double Completion)
    {
        public static Phases Slowest => new(double.MaxValue, double.MaxValue);

        public Phases Fastest(Phases other) => new(Math.Min(Issue, other.Issue), Math.Min(Completion, other.Completion));
    }
}

/// <summary>
/// A stand-in connection for <see cref="RedisHitProfile"/>: its database's <c>StringGetAsync</c> returns a task that
/// completes only in <see cref="AnswerAll"/>, with the bytes recorded for the n-th read of a batch (reads are issued
/// for ids 1 to 16 in order; the key itself is not read, because turning a prefixed key back into text would charge
/// the generated path a cost the real connection does not have). Every other member returns a default.
/// </summary>
public sealed class StandInRedis
{
    private readonly StandInDatabase _database;

    private StandInRedis(byte[][] values)
    {
        var database = DispatchProxy.Create<IDatabase, StandInDatabase>();
        _database = (StandInDatabase)(object)database;
        _database.Values = values;
        Connection = DispatchProxy.Create<IConnectionMultiplexer, StandInConnection>();
        ((StandInConnection)(object)Connection).Database = database;
    }

    public IConnectionMultiplexer Connection { get; }

    /// <summary>Seeds the 16 preferences through a reader <paramref name="create"/> makes on the real Redis, and
    /// records the bytes it stored for each. The run's keys are deleted first, so the ones read back are the 16 seeded
    /// here, whatever an earlier check of the same run left.</summary>
    public static async Task<StandInRedis> RecordAsync(Func<IConnectionMultiplexer, IPreferenceRepository, PreferenceReader> create)
    {
        RedisBenchmarkEnvironment.DeleteRunKeys();
        using var real = RedisBenchmarkEnvironment.Connect();
        var values = new byte[RedisReadBenchmarks.Batch][];
        await using (var reader = create(real, new InMemoryPreferenceRepository()))
        {
            for (var id = 1; id <= values.Length; id++)
            {
                await reader.SeedAsync(SampleData.Preference(id)).ConfigureAwait(false);
            }
        }

        var database = real.GetDatabase();
        var server = real.GetServer(real.GetEndPoints()[0]);
        foreach (var key in server.Keys(pattern: RedisBenchmarkEnvironment.RunPrefix + "*"))
        {
            var text = (string)key!;
            var id = int.Parse(text.AsSpan(text.LastIndexOf(':') + 1), CultureInfo.InvariantCulture);
            values[id - 1] = (byte[])(await database.StringGetAsync(key).ConfigureAwait(false))!;
        }

        RedisBenchmarkEnvironment.DeleteRunKeys();
        if (values.Any(value => value is null))
        {
            throw new InvalidOperationException("A seeded preference was not found in Redis.");
        }

        return new StandInRedis(values);
    }

    /// <summary>Completes every read issued since the last call, in order, on this thread.</summary>
    public void AnswerAll() => _database.AnswerAll();

    /// <summary>What a member the profile does not use returns.</summary>
    internal static object? Default(Type type)
        => type == typeof(void) ? null
            : type.IsArray ? Array.CreateInstance(type.GetElementType()!, 0)
            : type == typeof(Task) ? Task.CompletedTask
            : type == typeof(string) ? string.Empty
            : type.IsValueType ? Activator.CreateInstance(type)
            : null;
}

/// <summary>The stand-in connection's database (DispatchProxy needs a public, unsealed type).</summary>
public class StandInDatabase : DispatchProxy
{
    private readonly List<(TaskCompletionSource<RedisValue> Reply, byte[] Value)> _unanswered = [];
    private int _reads;

    internal byte[][] Values { get; set; } = [];

    internal void AnswerAll()
    {
        foreach (var (reply, value) in _unanswered)
        {
            reply.SetResult(value);
        }

        _unanswered.Clear();
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var method = targetMethod ?? throw new ArgumentNullException(nameof(targetMethod));
        if (method.Name == nameof(IDatabase.StringGetAsync) && method.ReturnType == typeof(Task<RedisValue>))
        {
            var reply = new TaskCompletionSource<RedisValue>();
            _unanswered.Add((reply, Values[_reads++ % Values.Length]));
            return reply.Task;
        }

        return StandInRedis.Default(method.ReturnType);
    }
}

/// <summary>The stand-in connection itself: <c>GetDatabase</c> returns the stand-in database.</summary>
public class StandInConnection : DispatchProxy
{
    internal IDatabase? Database { get; set; }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var method = targetMethod ?? throw new ArgumentNullException(nameof(targetMethod));
        return method.Name == nameof(IConnectionMultiplexer.GetDatabase) ? Database : StandInRedis.Default(method.ReturnType);
    }
}
