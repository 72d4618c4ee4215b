using Xunit.Abstractions;

namespace CachingGen.Redis.Tests.Consistency;

/// <summary>Write-through + read-through under concurrent writers and readers on real Redis and MariaDB. Runs alone
/// (it loads both servers and measures staleness against acknowledgement times).</summary>
[Collection(RedisServerCollection.Name)]
public sealed class ConsistencyTests(ITestOutputHelper output)
{
    [RedisAndMySqlFact]
    public async Task Write_through_never_serves_a_value_older_than_an_acknowledged_write()
    {
        var run = new ConsistencyRun
        {
            Duration = ConsistencyRun.DurationFromEnvironment(TimeSpan.FromSeconds(15)),
            Seed = ConsistencyRun.SeedFromEnvironment(),
        };
        await RunAndAssertConsistentAsync(run);
    }

    [RedisAndMySqlFact]
    public async Task Versioned_write_through_never_serves_a_value_older_than_an_acknowledged_write()
    {
        // One compare-and-set after the database write, no marker before it: a late writer's older version never
        // replaces a newer cached one, and a write never stores over a key whose version it cannot see.
        var run = new ConsistencyRun
        {
            Versioned = true,
            Duration = ConsistencyRun.DurationFromEnvironment(TimeSpan.FromSeconds(10)),
            Seed = ConsistencyRun.SeedFromEnvironment(),
        };
        await RunAndAssertConsistentAsync(run);
    }

    [RedisAndMySqlFact]
    public async Task The_checker_catches_the_naive_write_through_race()
    {
        // "Write the database, then SET the cache": W1 db, W2 db, W2 SET, W1 SET leaves W1's older value cached.
        var run = new ConsistencyRun
        {
            Naive = true,
            Duration = TimeSpan.FromSeconds(6),
            Seed = ConsistencyRun.SeedFromEnvironment(),
        };
        var report = await run.RunAsync(output.WriteLine);

        Assert.True(report.StaleReads.Count + report.CacheMismatches.Count > 0, $"seed {run.Seed}: the naive write-through went undetected in {report.Writes} writes and {report.Reads} reads");
    }

    /// <summary>Runs <paramref name="run"/>: it must have exercised the cache, and no read may be stale.</summary>
    private async Task RunAndAssertConsistentAsync(ConsistencyRun run)
    {
        var report = await run.RunAsync(output.WriteLine);

        Assert.True(report.Writes > 100, $"only {report.Writes} writes: the run proves little");
        Assert.True(report.Reads > 100, $"only {report.Reads} reads: the run proves little");
        Assert.True(report.CachedKeys > 0, "nothing was cached at the end: the run never exercised the cache");
        Assert.True(report.StaleReads.Count == 0, $"seed {run.Seed}: {report.StaleReads.Count} stale read(s), e.g. {string.Join("; ", report.StaleReads.Take(3))}");
        Assert.True(report.CacheMismatches.Count == 0, $"seed {run.Seed}: {report.CacheMismatches.Count} cache/database mismatch(es), e.g. {string.Join("; ", report.CacheMismatches.Take(3))}");
    }
}
