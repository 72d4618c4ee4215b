using CachingGen.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Preferences;

/// <summary>A few operations of every strategy, each followed by the database and cache state of the users it touched.</summary>
internal static class DemoCommand
{
    public static async Task<int> RunAsync(CommandLine commandLine)
    {
        await using var stack = await Stack.OpenAsync(commandLine, defaultTable: "preferences", keyNamespace: "preferences-demo:");
        Console.WriteLine(stack.Description);
        Console.WriteLine("After each step: what the inner repository read and wrote" +
            (stack.UsesRedis ? ", the Redis commands the server processed (INFO commandstats: server-wide)" : "") +
            ", CachingGen's own counters (meter \"CachingGen\"), and the database row and cache entry of the users involved.");
        Console.WriteLine();

        using var host = stack.BuildHost(Stack.CommandRedisTimeout);
        await host.StartAsync();
        // The demo starts from an empty table and namespace so its output is the same on every run.
        await stack.Database.ResetAsync(CancellationToken.None);
        await stack.ClearCacheAsync();

        var repository = host.Services.GetRequiredService<IPreferenceRepository>();
        var inspector = new CacheInspector(host.Services.GetRequiredService<ICacheStore>(), stack);
        using var counters = new CachingGenCounters();
        var demo = new Steps(stack, inspector, counters);

        await demo.RunAsync("[WriteThrough] SaveAsync(user 1: email on v1): not cached yet, so the key gets a tombstone", [1],
            () => repository.SaveAsync(new Preference(1, "email", true, 1)));
        await demo.RunAsync("[Cached] GetAsync(1): miss, filled for 300 s", [1],
            async () => Console.WriteLine($"    returned {CacheInspector.Describe(await repository.GetAsync(1))}"));
        await demo.RunAsync("[Cached] GetAsync(1): a hit, no database read", [1],
            async () => Console.WriteLine($"    returned {CacheInspector.Describe(await repository.GetAsync(1))}"));
        await demo.RunAsync("[WriteThrough] SaveAsync(user 1: sms on v2): the cached v1 is replaced in one compare-and-set", [1],
            () => repository.SaveAsync(new Preference(1, "sms", true, 2)));
        await demo.RunAsync("[WriteThrough] SaveAsync(user 1: email on v1, arriving late): database and cache keep v2", [1],
            () => repository.SaveAsync(new Preference(1, "email", true, 1)));
        await demo.RunAsync("[Cached] GetAsync(2): no such user, \"not found\" cached for 10 s", [2],
            async () => Console.WriteLine($"    returned {CacheInspector.Describe(await repository.GetAsync(2))}"));
        await demo.RunAsync("[WriteThrough] SaveManyAsync(users 2..5: sms off v1): one pipelined cache batch", [2, 5],
            () => repository.SaveManyAsync([.. Enumerable.Range(2, 4).Select(id => new Preference(id, "sms", false, 1))]));
        await demo.RunAsync("[WriteAround] MigrateAsync(user 1: push on v3): database only, key invalidated", [1],
            () => repository.MigrateAsync(new Preference(1, "push", true, 3)));
        await demo.RunAsync("[Cached] GetAsync(1): miss, filled with the write-around TTL (30 s)", [1],
            async () => Console.WriteLine($"    returned {CacheInspector.Describe(await repository.GetAsync(1))}"));
        await demo.RunAsync("[WriteAround] MigrateManyAsync(users 2..1001: push on v2): one invalidation batch", [2, 1001],
            () => repository.MigrateManyAsync([.. Enumerable.Range(2, 1000).Select(id => new Preference(id, "push", true, 2))]));
        await demo.RunAsync("[Cached] GetAsync(2): miss, fresh row, filled for 30 s", [2],
            async () => Console.WriteLine($"    returned {CacheInspector.Describe(await repository.GetAsync(2))}"));
        await demo.RunAsync("[WriteAround(Invalidate = false)] ImportAsync(user 2: webhook on v3): no cache work at all", [2],
            () => repository.ImportAsync(new Preference(2, "webhook", true, 3)));
        await demo.RunAsync("[Cached] GetAsync(2): the stale v2 until its 30 s end (pure write-around's documented trade)", [2],
            async () => Console.WriteLine($"    returned {CacheInspector.Describe(await repository.GetAsync(2))}"));
        await demo.RunAsync("[WriteAround(Invalidate = false)] ImportManyAsync(users 5001..6000: email on v1)", [5001],
            () => repository.ImportManyAsync([.. Enumerable.Range(5001, 1000).Select(id => new Preference(id, "email", true, 1))]));
        await demo.RunAsync("[Evict] DeleteAsync(1): row deleted, then the entry", [1],
            () => repository.DeleteAsync(1));
        await demo.RunAsync("[Evict] DeleteManyAsync(2, 3)", [2, 3],
            () => repository.DeleteManyAsync([2, 3]));
        await demo.RunAsync("[Cached] GetAsync(1): not found, and cached as such for 10 s", [1],
            async () => Console.WriteLine($"    returned {CacheInspector.Describe(await repository.GetAsync(1))}"));
        await demo.RunAsync("CountAsync(): no attribute, straight to the database", [],
            async () => Console.WriteLine($"    returned {await repository.CountAsync():N0} rows"));

        await host.StopAsync();
        return 0;
    }

    /// <summary>Runs one step and prints what it cost and what the database and cache hold afterwards.</summary>
    private sealed class Steps(Stack stack, CacheInspector inspector, CachingGenCounters counters)
    {
        public async Task RunAsync(string title, long[] users, Func<Task> step)
        {
            Console.WriteLine(title);
            var reads = stack.Database.Reads;
            var written = stack.Database.RowsWritten;
            var meters = counters.Snapshot();
            var redis = stack.UsesRedis ? await stack.ReadRedisCountersAsync() : null;
            await step();
            var redisAfter = stack.UsesRedis ? await stack.ReadRedisCountersAsync() : null;
            var cost = $"    cost: database reads {stack.Database.Reads - reads}, rows written {stack.Database.RowsWritten - written}";
            if (redis is not null && redisAfter is not null)
            {
                cost += $"; Redis commands {redisAfter.Minus(redis).DescribeDataCalls()}";
            }

            Console.WriteLine(cost);
            Console.WriteLine($"    CachingGen counters: {CachingGenCounters.Describe(meters, counters.Snapshot())}");
            foreach (var user in users)
            {
                var row = await stack.Database.ReadDirectAsync(user, CancellationToken.None);
                Console.WriteLine($"    user {user}: database {(row is null ? "no row" : CacheInspector.Describe(row))}; cache {await inspector.DescribeAsync(user)}");
            }

            Console.WriteLine();
        }
    }
}
