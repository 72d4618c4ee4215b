using System.Diagnostics;
using System.Text;
using CachingGen.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>Tests that stop the real server, pause every client or flush its scripts: run alone (non-parallel
/// collection) so no other test sees it.</summary>
[Collection(RedisServerCollection.Name)]
[Trait("Category", RedisServerCollection.SharedServerOutage)]
public sealed class RedisServerControlTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Every operation of <paramref name="store"/>, each to be run while the server cannot answer.</summary>
    private static IEnumerable<(string Name, Func<Task> Run)> Operations(ICacheStore store) =>
    [
        ("GetAsync", async () => await store.GetAsync("k", None)),
        ("TryFillAsync", async () => await store.TryFillAsync("k", Bytes("v"), Minute, 0, None)),
        ("SetManyAsync", async () => await store.SetManyAsync([new CacheEntry("k", Bytes("v"), Minute), new CacheEntry("k2", Bytes("v"), null)], None)),
        ("InvalidateAsync", async () => await store.InvalidateAsync(["k", "k2"], null, None)),
        ("ExpireAsync", async () => await store.ExpireAsync("k", Minute, None)),
        ("BeginWritesAsync", async () => await store.BeginWritesAsync(["k", "k2"], Minute, None)),
        ("CompleteWritesAsync", async () => await store.CompleteWritesAsync([new WriteCompletion("k", 1, Bytes("v"), Minute, true)], None)),
    ];

    private static async Task AssertFailsFastAsync(string name, Func<Task> operation)
    {
        var watch = Stopwatch.StartNew();
        var exception = await Record.ExceptionAsync(operation);
        watch.Stop();
        Assert.True(exception is CacheStoreUnavailableException, $"{name} threw {exception?.GetType().Name ?? "nothing"}: {exception}");
        Assert.True(watch.Elapsed < RedisTestEnvironment.FailFastBound, $"{name} took {watch.Elapsed.TotalMilliseconds:0} ms (timeout {Timeout.TotalMilliseconds} ms)");
    }

    /// <summary>Each test starts with the shared connection working (an earlier test may have restarted the server).</summary>
    private static async Task SharedConnectionReadyAsync()
    {
        var ready = await EventuallyAsync(
            async () =>
            {
                try
                {
                    await Shared.GetDatabase().PingAsync();
                    return true;
                }
                catch (RedisException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(30),
            TimeSpan.FromMilliseconds(100));
        Assert.True(ready, "the shared connection did not reconnect within 30 s");
    }

    private static async Task<bool> WorksAsync(ICacheStore store)
    {
        try
        {
            await store.SetManyAsync([new CacheEntry("probe", Bytes("p"), Minute)], None);
            return (await store.GetAsync("probe", None)).Found;
        }
        catch (CacheStoreUnavailableException)
        {
            return false;
        }
    }

    [RedisServerFact]
    public async Task Operations_fail_fast_while_redis_is_stopped_and_work_again_after_restart()
    {
        await SharedConnectionReadyAsync();
        using var connection = Connect();
        var store = NewStore(connection, o => o.OperationTimeout = Timeout);
        var operations = Operations(store).ToArray();

        // Warm up every path (JIT, script cache) while the server is up.
        foreach (var (_, run) in operations)
        {
            await run();
        }

        try
        {
            RunServicesScript("stop-redis");
            foreach (var (name, run) in operations)
            {
                await AssertFailsFastAsync(name, run);
            }

            // Still failing fast on a second round (the client is reconnecting in the background).
            foreach (var (name, run) in operations)
            {
                await AssertFailsFastAsync(name, run);
            }
        }
        finally
        {
            RunServicesScript("start-redis");
        }

        Assert.True(await EventuallyAsync(() => WorksAsync(store), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100)), "the store did not work again within 30 s of the restart");
        await SharedConnectionReadyAsync();
        foreach (var (_, run) in operations)
        {
            await run();
        }
    }

    [RedisServerFact]
    public async Task Operations_time_out_while_the_server_does_not_answer()
    {
        await SharedConnectionReadyAsync();
        using var connection = Connect();
        var store = NewStore(connection, o => o.OperationTimeout = Timeout);
        var operations = Operations(store).ToArray();
        foreach (var (_, run) in operations)
        {
            await run();
        }

        // CLIENT PAUSE keeps the connection up but leaves every command unanswered: the operation timeout must fire.
        var admin = Shared.GetServer(Shared.GetEndPoints()[0]);
        foreach (var (name, run) in operations)
        {
            await admin.ExecuteAsync("CLIENT", "PAUSE", "2500", "ALL");
            try
            {
                var watch = Stopwatch.StartNew();
                var exception = await Assert.ThrowsAsync<CacheStoreUnavailableException>(run);
                watch.Stop();
                Assert.IsAssignableFrom<TimeoutException>(exception.InnerException);
                // Far under the pause (the timeout fired, the server never answered), with room for a loaded CI machine.
                Assert.True(watch.Elapsed < RedisTestEnvironment.FailFastBound, $"{name} took {watch.Elapsed.TotalMilliseconds:0} ms (operation timeout {Timeout.TotalMilliseconds:0} ms, pause 2.5 s)");
            }
            finally
            {
                await admin.ExecuteAsync("CLIENT", "UNPAUSE");
            }
        }

        Assert.True(await EventuallyAsync(() => WorksAsync(store), TimeSpan.FromSeconds(10)));
    }

    [RedisFact]
    public async Task Scripts_are_reloaded_after_the_server_forgets_them()
    {
        await SharedConnectionReadyAsync();
        var store = NewStore();
        Assert.True(await store.TryFillAsync("a", Bytes("1"), Minute, 0, None));

        // SCRIPT FLUSH makes the next EVALSHA answer NOSCRIPT; the store falls back to EVAL.
        var server = Shared.GetServer(Shared.GetEndPoints()[0]);
        await server.ExecuteAsync("SCRIPT", "FLUSH");
        Assert.True(await store.TryFillAsync("b", Bytes("2"), Minute, 0, None));
        await server.ExecuteAsync("SCRIPT", "FLUSH");
        Assert.True(await store.ExpireAsync("b", Minute, None));
        Assert.Equal("2", Encoding.UTF8.GetString((await store.GetAsync("b", None)).Value.Span));
    }

    [RedisFact]
    public async Task Write_steps_reload_their_scripts_after_the_server_forgets_them()
    {
        await SharedConnectionReadyAsync();
        var store = NewStore();
        var server = Shared.GetServer(Shared.GetEndPoints()[0]);
        var warm = await store.BeginWritesAsync(["a"], Minute, None);
        await store.CompleteWritesAsync([new WriteCompletion("a", warm[0], Bytes("1"), Minute, true)], None);

        await server.ExecuteAsync("SCRIPT", "FLUSH");
        var tokens = await store.BeginWritesAsync(["b", "c"], Minute, None);
        Assert.True((await store.GetAsync("b", None)).WriteInProgress);
        await server.ExecuteAsync("SCRIPT", "FLUSH");
        var outcomes = await store.CompleteWritesAsync([new WriteCompletion("b", tokens[0], Bytes("2"), Minute, true), new WriteCompletion("c", tokens[1], Bytes("3"), Minute, true)], None);

        // Each command ran exactly once: a second begin would have made the markers contended (no store).
        Assert.Equal([WriteCompletionOutcome.Stored, WriteCompletionOutcome.Stored], outcomes);
        Assert.Equal("2", Encoding.UTF8.GetString((await store.GetAsync("b", None)).Value.Span));
    }

    [Fact]
    public async Task Unreachable_server_fails_fast_and_never_reveals_the_password()
    {
        const string secret = "S3cr3t-Pa55word!";
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        new CachingGenBuilder(services).UseRedis($"127.0.0.1:1,user=alice,password={secret},connectTimeout=200", o => o.OperationTimeout = Timeout);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<ICacheStore>();

        foreach (var (name, run) in Operations(store))
        {
            await AssertFailsFastAsync(name, run);
            var exception = await Assert.ThrowsAsync<CacheStoreUnavailableException>(run);
            Assert.Contains("127.0.0.1:1", exception.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, exception.ToString(), StringComparison.Ordinal);
        }

        Assert.NotEmpty(logs.Messages);
        Assert.All(logs.Messages, message => Assert.DoesNotContain(secret, message, StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task An_acl_user_and_password_pass_through_to_the_server_and_a_wrong_password_is_never_revealed()
    {
        const string secret = "Acl-Pa55word!";
        const string wrong = "Wr0ng-Pa55word!";

        // The default user may only answer INFO (the test helper's probe); data commands need the ACL user 'app'.
        using var server = CachingGen.TestSupport.RedisServerProcess.Start("--user", "default", "on", "nopass", "+info", "--user", "app", "on", ">" + secret, "~*", "&*", "+@all");

        (ICacheStore Store, ServiceProvider Provider, CapturingLoggerProvider Logs) Connect(string credentials)
        {
            var logs = new CapturingLoggerProvider();
            var services = new ServiceCollection();
            services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            new CachingGenBuilder(services).UseRedis($"{server.Configuration}{credentials},connectTimeout=2000", o => o.OperationTimeout = TimeSpan.FromSeconds(2));
            var provider = services.BuildServiceProvider();
            return (provider.GetRequiredService<ICacheStore>(), provider, logs);
        }

        var (store, provider, _) = Connect($",user=app,password={secret}");
        await using (provider)
        {
            await store.SetManyAsync([new CacheEntry("acl:1", Bytes("v"), Minute)], None);
            var lookup = await store.GetAsync("acl:1", None);
            Assert.True(lookup.Found);
            Assert.Equal("v", Encoding.UTF8.GetString(lookup.Value.Span));
        }

        // Without the user's credentials the same operations are refused by the server: the credentials were used.
        var (anonymous, anonymousProvider, _) = Connect(string.Empty);
        await using (anonymousProvider)
        {
            await Assert.ThrowsAsync<CacheStoreUnavailableException>(async () => await anonymous.GetAsync("acl:1", None));
        }

        var (refused, refusedProvider, logs) = Connect($",user=app,password={wrong}");
        await using (refusedProvider)
        {
            foreach (var (name, run) in Operations(refused))
            {
                var exception = await Record.ExceptionAsync(run);
                Assert.True(exception is CacheStoreUnavailableException, $"{name} threw {exception?.GetType().Name ?? "nothing"}: {exception}");
                Assert.DoesNotContain(wrong, exception!.ToString(), StringComparison.Ordinal);
                Assert.DoesNotContain(secret, exception.ToString(), StringComparison.Ordinal);
            }
        }

        Assert.NotEmpty(logs.Messages);
        Assert.All(logs.Messages, message => Assert.DoesNotContain(wrong, message, StringComparison.Ordinal));
    }
}
