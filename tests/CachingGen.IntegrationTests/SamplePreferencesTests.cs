using CachingGen.IntegrationTests.Support;
using Preferences;

namespace CachingGen.IntegrationTests;

/// <summary>samples/Preferences run as a user runs it: the demo on the embedded default and on the real stack, the
/// replay on the real stack (small: 1,000 rows, one run), and a bad argument. They run alone, after the parallel
/// tests of this assembly; other test assemblies may use the same Redis meanwhile, so nothing here depends on its
/// server-wide INFO counters.</summary>
[Collection(SampleCollection.Name)]
public sealed class SamplePreferencesTests
{
    private static void AssertLine(SampleProcess.Result result, Func<string, bool> expected)
        => Assert.True(result.Lines.Any(expected), $"No matching line in the sample's output:{Environment.NewLine}{result.Output}{result.Error}");

    [Fact]
    public async Task Demo_without_servers_runs_on_the_embedded_default_and_says_so_first()
    {
        var result = await SampleProcess.RunAsync(inheritServers: false);

        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.Contains("in-memory cache (embedded default)", result.Lines[0], StringComparison.Ordinal);
        Assert.Contains("embedded SQLite", result.Lines[0], StringComparison.Ordinal);
        foreach (var strategy in new[] { "[WriteThrough]", "[Cached]", "[WriteAround]", "[WriteAround(Invalidate = false)]", "[Evict]" })
        {
            Assert.Contains(result.Lines, line => line.StartsWith(strategy, StringComparison.Ordinal));
        }

        Assert.Contains("returned 1,998 rows", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_without_servers_runs_on_the_embedded_default_and_says_what_it_cannot_measure()
    {
        var markdown = Path.Combine(Path.GetTempPath(), $"replay-{Guid.NewGuid():N}.md");
        try
        {
            var result = await SampleProcess.RunAsync(false, "replay", "--rows", "400", "--batch", "50", "--workers", "4", "--repeat", "1", "--markdown", markdown);

            Assert.True(result.ExitCode == 0, result.Output + result.Error);
            Assert.Contains("in-memory cache (embedded default)", result.Lines[0], StringComparison.Ordinal);
            var report = await File.ReadAllTextAsync(markdown);
            Assert.Equal(8, report.Split("| verified: 400 rows at v2, 200 sampled keys").Length - 1);
            Assert.Contains("Not measured: the cache is in memory", report, StringComparison.Ordinal);
            Assert.Contains("| n/a (in-memory cache) | not measured |", report, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(markdown);
        }
    }

    [Fact]
    public async Task Bad_argument_is_named_with_the_usage()
    {
        var result = await SampleProcess.RunAsync(false, "replay", "--rows", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--rows must be a whole number of at least 1, not '0'", result.Error, StringComparison.Ordinal);
        Assert.Contains("usage: Preferences", result.Error, StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Demo_on_the_real_stack_shows_redis_state_after_each_strategy()
    {
        var table = $"it_demo_{Guid.NewGuid():N}"[..32];
        try
        {
            var result = await SampleProcess.RunAsync(true, "demo", "--table", table);

            Assert.True(result.ExitCode == 0, result.Output + result.Error);
            Assert.StartsWith($"Preferences on Redis {StackEnvironment.RequireRedis()} (from CACHINGGEN_REDIS", result.Lines[0], StringComparison.Ordinal);
            Assert.Contains($"table {table} (from CACHINGGEN_MYSQL)", result.Lines[0], StringComparison.Ordinal);
            // Each check names the whole output when it fails: the demo's state lines are what there is to read.
            AssertLine(result, line => line.StartsWith("user 1: database email on v1; cache pref:1 = tombstone", StringComparison.Ordinal));
            AssertLine(result, line => line.StartsWith("user 1: database sms on v2; cache pref:1 = sms on v2, TTL 30", StringComparison.Ordinal) || line.StartsWith("user 1: database sms on v2; cache pref:1 = sms on v2, TTL 29", StringComparison.Ordinal));
            AssertLine(result, line => line.StartsWith("user 1: database push on v3; cache pref:1 = tombstone, the next read fills it for 30 s", StringComparison.Ordinal));
            AssertLine(result, line => line.StartsWith("user 1: database push on v3; cache pref:1 = push on v3, TTL 3", StringComparison.Ordinal) || line.StartsWith("user 1: database push on v3; cache pref:1 = push on v3, TTL 29", StringComparison.Ordinal));
            AssertLine(result, line => line.StartsWith("user 1001: database push on v2; cache pref:1001 = tombstone", StringComparison.Ordinal));
            AssertLine(result, line => line.StartsWith("user 5001: database email on v1; cache pref:5001 = absent", StringComparison.Ordinal));

            // The bulk steps' own counters (this process only): the write-around's 1,000 invalidations go out as one
            // batch, and the import without invalidation sends nothing. The server-wide Redis command counts beside
            // them are shown, not checked: the other test assemblies use the same server at the same time.
            var lines = result.Lines;
            var bulkCounters = lines
                .Select((line, index) => (line, index))
                .Where(entry => entry.line.StartsWith("cost: database reads 0, rows written 1000;", StringComparison.Ordinal) && entry.index + 1 < lines.Length)
                .Select(entry => lines[entry.index + 1])
                .ToList();
            Assert.True(bulkCounters.SequenceEqual(new[]
            {
                "CachingGen counters: cachinggen.redis.batched_commands 1,000, cachinggen.redis.batches 1, cachinggen.writes[write_around] 1",
                "CachingGen counters: cachinggen.writes[write_around] 1",
            }), "The bulk steps' counters: " + string.Join(" | ", bulkCounters) + Environment.NewLine + result.Output);
        }
        finally
        {
            await DropAsync(table);
        }
    }

    [StackFact]
    public async Task Replay_on_the_real_stack_verifies_every_mode_and_writes_its_markdown()
    {
        var table = $"it_replay_{Guid.NewGuid():N}"[..32];
        var markdown = Path.Combine(Path.GetTempPath(), $"replay-{Guid.NewGuid():N}.md");
        try
        {
            var result = await SampleProcess.RunAsync(true, "replay", "--rows", "1000", "--batch", "100", "--workers", "4", "--repeat", "1", "--table", table, "--markdown", markdown);

            Assert.True(result.ExitCode == 0, result.Output + result.Error);
            var report = await File.ReadAllTextAsync(markdown);
            Assert.DoesNotContain("NOT VERIFIED", report, StringComparison.Ordinal);
            // Five write paths (the hand-written database + DEL baseline included), each one row per call and batched.
            Assert.Equal(10, report.Split("| verified: 1,000 rows at v2, 200 sampled keys").Length - 1);
            Assert.Contains("| hand-written: plain DB, then a raw key delete | ", report, StringComparison.Ordinal);
            Assert.Matches("(del|unlink) 1,000", report);
            Assert.Contains("--rows 1000 --batch 100 --workers 4 --repeat 1", report, StringComparison.Ordinal);
            Assert.Contains("Redis server ", report, StringComparison.Ordinal);
            Assert.Contains("one `SET ... PX` round trip alone: mean", report, StringComparison.Ordinal);
            Assert.Contains("| write-through | ", report, StringComparison.Ordinal);
            // Write-around leaves one tombstone per row (SETEX); the rows' traffic columns say what Redis saw instead.
            Assert.True(
                report.Contains("setex 1,000", StringComparison.Ordinal),
                "No write-around row shows 'setex 1,000'. The rows of write-around or with SETEX traffic:" + Environment.NewLine
                    + string.Join(Environment.NewLine, report.Split('\n').Where(line => line.StartsWith('|') && (line.Contains("setex", StringComparison.Ordinal) || line.Contains("write-around", StringComparison.Ordinal))))
                    + Environment.NewLine + result.Output);
            Assert.Contains("cachinggen.writes[write_through] 1,000", report, StringComparison.Ordinal);
            Assert.Contains("### Targets (issue 3)", report, StringComparison.Ordinal);

            // Redis' CPU from INFO cpu and the local MariaDB's from /proc, so the bound from Redis' own work is computed.
            Assert.Matches(@"\| batches of 100 \| plain database \| [\d,.]+ \| [\d,.]+ \| [\d,.]+ \| [\d,.]+ \| 0\.0 \| [\d.]+ of \d+ \|", report);
            Assert.Contains("What Redis' own work leaves write-around here", report, StringComparison.Ordinal);
            Assert.Contains("- one row per call, CPU: when the shared cores are the limit", report, StringComparison.Ordinal);
            Assert.Contains("- batches of 100, time: each call waits for one Redis round trip", report, StringComparison.Ordinal);
            Assert.DoesNotContain("cachinggen:cachinggen", report, StringComparison.Ordinal); // no credentials in the report
        }
        finally
        {
            File.Delete(markdown);
            await DropAsync(table);
        }
    }

    private static async Task DropAsync(string table)
    {
        await using var database = new MySqlPreferenceDatabase(StackEnvironment.RequireMySql(), table);
        await database.DropTableAsync(CancellationToken.None);
    }
}

/// <summary>Tests that read server-wide counters: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SampleCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "Preferences sample";
}
