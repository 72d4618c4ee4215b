namespace Preferences.Replay;

/// <summary>
/// The rows of one replay, generated from a fixed seed so every mode (and every run with the same options) writes
/// exactly the same updates in the same order: users 1..rows start at version 1 and migrate to version 2; a
/// separate range of users warms up each mode.
/// </summary>
internal sealed class Workload
{
    private static readonly string[] Channels = ["email", "sms", "push", "webhook", "in_app"];

    private Workload(int rows, int warmupRows, int batch, int seed)
    {
        Rows = rows;
        WarmupRows = warmupRows;
        Batch = batch;
        Seed = seed;
        var random = new Random(seed);
        Initial = Enumerable.Range(1, rows + warmupRows).Select(id => Generate(random, id, version: 1)).ToArray();
        var updates = Enumerable.Range(1, rows).Select(id => Generate(random, id, version: 2)).ToArray();
        random.Shuffle(updates);
        Updates = updates;
        var warmup = Enumerable.Range(rows + 1, warmupRows).Select(id => Generate(random, id, version: 2)).ToArray();
        Warmup = warmup;
        UpdateBatches = updates.Chunk(batch).ToArray();
        WarmupBatches = warmup.Chunk(batch).ToArray();
    }

    public int Rows { get; }

    public int WarmupRows { get; }

    public int Batch { get; }

    public int Seed { get; }

    /// <summary>The rows the database holds before each measurement (version 1), measured and warm-up users.</summary>
    public IReadOnlyList<Preference> Initial { get; }

    /// <summary>The measured updates (version 2), in the order they are written.</summary>
    public IReadOnlyList<Preference> Updates { get; }

    public IReadOnlyList<Preference[]> UpdateBatches { get; }

    /// <summary>Warm-up updates of users outside the measured range.</summary>
    public IReadOnlyList<Preference> Warmup { get; }

    public IReadOnlyList<Preference[]> WarmupBatches { get; }

    /// <summary>Warm-up: a tenth of the rows, at least two batches' worth and at most 5,000 rows.</summary>
    public static Workload Create(int rows, int batch, int seed)
        => new(rows, Math.Clamp(rows / 10, Math.Min(2 * batch, 5_000), 5_000), batch, seed);

    private static Preference Generate(Random random, long userId, long version)
        => new(userId, Channels[random.Next(Channels.Length)], random.Next(4) != 0, version);
}
