using StackExchange.Redis;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>Which keys the write pipeline may put in one script call, learned from the connected servers.</summary>
public sealed class RedisScriptScopeTests
{
    [RedisFact]
    public void A_standalone_server_takes_any_keys_in_one_call()
        => Assert.Equal(ScriptScope.AnyKeys, new RedisScriptScope(Shared).Current());

    [RedisFact]
    public async Task Servers_that_cannot_be_listed_mean_one_call_per_key_for_now_and_are_asked_again_later()
    {
        var failures = 1;
        var connection = CountingProxy<IConnectionMultiplexer>.Wrap(Shared, (method, result) =>
            method.Name == nameof(IConnectionMultiplexer.GetServers) && Interlocked.Decrement(ref failures) >= 0
                ? throw new RedisConnectionException(ConnectionFailureType.SocketFailure, "listing failed")
                : result);
        var scope = new RedisScriptScope(connection);

        Assert.Equal(ScriptScope.None, scope.Current());

        // Asked again once the recheck interval (1 s) has passed, not stuck on "one call per key".
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.Equal(ScriptScope.AnyKeys, scope.Current());
    }
}
