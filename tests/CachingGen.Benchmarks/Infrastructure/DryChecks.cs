namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>The interleaved checks behind the report's paired rows (<c>--paired-serialization</c>, <c>--paired</c>,
/// <c>--paired-redis</c>, <c>--paired-stampede</c>), run at <see cref="PairedScale.Dry"/> in the dry run, and the profiles (<c>--profile-*</c>),
/// run at a tiny scale, so that none of them rots: each is one more passed or failed case of that run. The checks'
/// facts go to the dry run's own results, never to the report's; the profiles only print.</summary>
public static class DryChecks
{
    public static SuiteRunner.Outcome RunDry(string dryResultsDirectory, SuiteRunner.Outcome outcome)
    {
        var checks = new List<(string Name, Func<Task> Run)>
        {
            ("paired serialization", () =>
            {
                Serialization.PairedSerializationCheck.Run(dryResultsDirectory, dry: true);
                return Task.CompletedTask;
            }),
            ("paired decorator", () => Decorators.PairedDecoratorCheck.RunAsync(dryResultsDirectory, dry: true)),
            ("allocation profile", () => AllocationProfile.RunAsync(dry: true)),
            ("compile profile", () =>
            {
                Generator.CompileProfile.Run(interfaces: 2);
                return Task.CompletedTask;
            }),
            ("generator profile", () =>
            {
                Generator.GeneratorFloorProfile.Run(interfaces: 5, dry: true);
                return Task.CompletedTask;
            }),
        };
        var skipped = outcome.Skipped;
        if (RedisBenchmarkEnvironment.IsAvailable)
        {
            checks.Add(("paired Redis reads", () => Redis.PairedRedisCheck.RunAsync(dryResultsDirectory, dry: true)));
            checks.Add(("paired stampedes", () => Stampede.PairedStampedeCheck.RunAsync(dryResultsDirectory, dry: true)));
            checks.Add(("Redis hit profile", () => Redis.RedisHitProfile.RunAsync(dry: true)));
            checks.Add(("Redis miss profile", () => Redis.RedisMissProfile.RunAsync(seconds: 0.05)));
        }
        else
        {
            // SuiteRunner has already failed the run for a missing Redis when CI is set.
            skipped++;
        }

        var passed = outcome.Passed;
        var failed = outcome.Failed;
        foreach (var (name, run) in checks)
        {
            try
            {
                run().GetAwaiter().GetResult();
                passed++;
            }
            catch (Exception exception)
            {
                failed++;
                Console.WriteLine($"[bench] FAILED: {name}: {exception.GetType().Name}: {exception.Message}");
            }
        }

        return new SuiteRunner.Outcome(passed, failed, skipped);
    }
}
