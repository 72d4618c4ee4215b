using System.Diagnostics;
using CachingGen.TestSupport;
using Xunit.Abstractions;

namespace CachingGen.IntegrationTests.WriteBack;

/// <summary>
/// The write-back load command behind docs/benchmarks/write-back.md runs too long for CI; this runs it once, briefly,
/// against real servers, so it never rots: every phase runs and the report has every row and target.
/// </summary>
[Collection(CrashCollection.Name)]
public sealed class LoadBenchmarkSmokeTests(ITestOutputHelper output)
{
    [CrashFact]
    public async Task The_write_back_load_command_runs_every_phase_briefly_and_prints_the_whole_report()
    {
        using var redis = RedisServerProcess.Start("--appendonly", "yes", "--appendfsync", "everysec");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            CrashEnvironment.FlusherAssembly(), "bench", "--redis", redis.Configuration, "--mysql", CrashEnvironment.RequireMySql(),
            "--seconds", "1", "--concurrency", "4", "--keys", "200",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the load command did not finish in 3 minutes:{Environment.NewLine}{await stdout}{await stderr}");
        }

        var report = await stdout;
        output.WriteLine(report);
        Assert.True(process.ExitCode == 0, $"the load command failed ({process.ExitCode}):{Environment.NewLine}{report}{await stderr}");
        foreach (var expected in new[]
        {
            "| Raw Redis round trip (SET, 64 B) |",
            "| [WriteBack] acknowledgement |",
            "| [WriteThrough] (MySQL autocommit + Redis) |",
            "| Inner write in MySQL autocommit, 1 connection |",
            "| Database floor: the flusher's multi-row statements alone",
            "| Database floor with the idempotency ledger:",
            "Redis server time during the [WriteBack] phase (INFO commandstats): evalsha",
            "Flusher drain: ",
            "Redis server time during the drain: ",
            "| [WriteBack] ack throughput / [WriteThrough] throughput |",
            "| [WriteBack] ack p99 / raw Redis p99 |",
            "| Flusher drain rate / single-row autocommit rate |",
        })
        {
            Assert.Contains(expected, report, StringComparison.Ordinal);
        }

        // The drain's line lists commands (a brief drain may send fewer than 100 script calls, which the line leaves out,
        // but the commands the scripts ran are counted).
        Assert.Matches(@"Redis server time during the drain: [a-z]+ \d+ calls, [0-9.]+ µs/call", report);

        // Every phase measured something.
        Assert.DoesNotContain("| 0 | 0 |", report, StringComparison.Ordinal);
    }
}
