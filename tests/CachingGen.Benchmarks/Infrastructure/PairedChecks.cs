namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>The interleaved checks behind the report's paired rows (<c>--paired-serialization</c>, <c>--paired</c>,
/// <c>--paired-redis</c>), run at <see cref="PairedScale.Dry"/> in the dry run so that they never rot: each is one
/// more passed or failed case of that run. Their facts go to the dry run's own results, never to the report's.</summary>
public static class PairedChecks
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
        };
        var skipped = outcome.Skipped;
        if (RedisBenchmarkEnvironment.IsAvailable)
        {
            checks.Add(("paired Redis reads", () => Redis.PairedRedisCheck.RunAsync(dryResultsDirectory, dry: true)));
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
