using System.Diagnostics;
using CachingGen.Redis;
using StackExchange.Redis;

namespace CachingGen.Redis.Tests;

/// <summary>Where the real Redis of the integration tests is: env CACHINGGEN_REDIS (host:port), set by
/// scripts/test.sh or by <c>eval "$(scripts/services.sh env)"</c>.</summary>
internal static class RedisTestEnvironment
{
    public const string RedisVariable = "CACHINGGEN_REDIS";
    public const string ServicesScriptVariable = "CACHINGGEN_SERVICES_SCRIPT";

    /// <summary>How soon an operation with a 250 ms timeout must fail against a stopped, paused or unreachable server
    /// for its timeout to count as fired: well under the 5 s StackExchange.Redis would wait without it, with room for a
    /// loaded CI machine's scheduling delay (a CI run saw 983 ms for a fill against an unreachable server).</summary>
    public static readonly TimeSpan FailFastBound = TimeSpan.FromSeconds(2);

    private static readonly Lazy<ConnectionMultiplexer> SharedConnection = new(() => Connect());

    public static string? Configuration => NullIfEmpty(Environment.GetEnvironmentVariable(RedisVariable));

    public static string? ServicesScript => NullIfEmpty(Environment.GetEnvironmentVariable(ServicesScriptVariable));

    public static bool IsCI => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>One connection shared by the tests that do not stop the server.</summary>
    public static IConnectionMultiplexer Shared => SharedConnection.Value;

    /// <summary>The Redis configuration; fails with a clear message when it is missing (only reached in CI, where the
    /// tests are not skipped).</summary>
    public static string RequireConfiguration()
        => Configuration ?? throw new InvalidOperationException(
            $"{RedisVariable} is not set, but CI is: the Redis integration tests must run against a real Redis in CI. " +
            "Run them through scripts/test.sh (it starts a private Redis) or export the variables of `scripts/services.sh env`.");

    public static string RequireServicesScript()
        => ServicesScript ?? throw new InvalidOperationException(
            $"{ServicesScriptVariable} is not set, but CI is: the outage tests need scripts/services.sh to stop and start Redis. " +
            "Run them through scripts/test.sh or export the variables of `scripts/services.sh env`.");

    /// <summary>A new connection that fails fast while the server is down.</summary>
    public static ConnectionMultiplexer Connect(Action<ConfigurationOptions>? configure = null)
    {
        var options = ConfigurationOptions.Parse(RequireConfiguration());
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 2000;
        configure?.Invoke(options);
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>A store over <paramref name="connection"/> (the shared one when null) whose keys live under a namespace
    /// no other test uses.</summary>
    public static RedisCacheStore NewStore(IConnectionMultiplexer? connection = null, Action<RedisCacheOptions>? configure = null)
    {
        // Generous by default: CI shares two cores among three test projects, and a 250 ms budget is an outage
        // threshold, not something a loaded test machine always meets. Outage tests set their own, short timeout.
        var options = new RedisCacheOptions { KeyNamespace = UniqueNamespace(), OperationTimeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return new RedisCacheStore(connection ?? Shared, options);
    }

    public static string UniqueNamespace() => $"cgtest:{Guid.NewGuid():N}:";

    /// <summary>Runs scripts/services.sh with <paramref name="arguments"/>; throws when it fails.</summary>
    public static void RunServicesScript(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(RequireServicesScript());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"services.sh {string.Join(' ', arguments)} did not finish in 90 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"services.sh {string.Join(' ', arguments)} failed ({process.ExitCode}): {stdout.Result}{stderr.Result}");
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(25));
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>A test that needs the real Redis of <see cref="RedisTestEnvironment"/>: skipped when CACHINGGEN_REDIS is
/// missing on a developer machine, run (and so failing with a clear message) when it is missing in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisFactAttribute : FactAttribute
{
    /// <summary>Decides, when xunit discovers the test, whether it is skipped.</summary>
    public RedisFactAttribute()
    {
        if (RedisTestEnvironment.Configuration is null && !RedisTestEnvironment.IsCI)
        {
            Skip = $"{RedisTestEnvironment.RedisVariable} is not set (run scripts/test.sh, or `scripts/services.sh start` and eval \"$(scripts/services.sh env)\")";
        }
    }
}

/// <summary>The <see cref="RedisFactAttribute"/> rule for a theory.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    /// <summary>Decides, when xunit discovers the test, whether it is skipped.</summary>
    public RedisTheoryAttribute()
    {
        Skip = new RedisFactAttribute().Skip;
    }
}

/// <summary>A test that stops and starts the real Redis through scripts/services.sh: skipped unless both
/// CACHINGGEN_REDIS and CACHINGGEN_SERVICES_SCRIPT are set, except in CI where it runs (and fails when they are not).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisServerFactAttribute : FactAttribute
{
    /// <summary>Decides, when xunit discovers the test, whether it is skipped.</summary>
    public RedisServerFactAttribute()
    {
        if ((RedisTestEnvironment.Configuration is null || RedisTestEnvironment.ServicesScript is null) && !RedisTestEnvironment.IsCI)
        {
            Skip = $"{RedisTestEnvironment.RedisVariable} or {RedisTestEnvironment.ServicesScriptVariable} is not set (run scripts/test.sh, or eval \"$(scripts/services.sh env)\")";
        }
    }
}

/// <summary>Tests that stop the server or pause every client: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisServerCollection
{
    /// <summary>The trait of tests that stop or pause the shared server: scripts/test.sh runs them after every other
    /// test project, because the server is shared by all of them and a stop or a pause would fail their calls.</summary>
    public const string SharedServerOutage = "SharedServerOutage";

    /// <summary>The collection name.</summary>
    public const string Name = "Redis server control";
}
