using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>Which keys one multi-key script call may carry on the connected deployment.</summary>
internal enum ScriptScope
{
    /// <summary>Not known yet (nothing connected) or a proxy: one call per key.</summary>
    None,

    /// <summary>A standalone server (with or without replicas): any keys in one call.</summary>
    AnyKeys,

    /// <summary>A Redis Cluster: keys of one hash slot in one call, as Redis Cluster requires.</summary>
    HashSlot,
}

/// <summary>
/// Tells the write pipeline which keys it may put in one script call, from the type of the servers it is connected to.
/// Learned once, from the first look that finds a connected server; until then (and on proxies such as twemproxy or
/// Envoy, whose key routing is their own) every command goes out on its own, which is valid everywhere.
/// </summary>
internal sealed class RedisScriptScope(IConnectionMultiplexer connection)
{
    /// <summary>How long an inconclusive look is trusted before the servers are asked again.</summary>
    private const long RecheckMilliseconds = 1000;

    /// <summary>The learned scope plus one (0: not learned yet).</summary>
    private int _learned;
    private long _nextLook;

    public ScriptScope Current()
    {
        var learned = Volatile.Read(ref _learned);
        if (learned != 0)
        {
            return (ScriptScope)(learned - 1);
        }

        var now = Environment.TickCount64;
        if (now < Volatile.Read(ref _nextLook))
        {
            return ScriptScope.None;
        }

        Volatile.Write(ref _nextLook, now + RecheckMilliseconds);
        if (Look() is { } scope)
        {
            Volatile.Write(ref _learned, (int)scope + 1);
            return scope;
        }

        return ScriptScope.None;
    }

    /// <summary>The scope of the connected servers; null while none is connected or they cannot be listed.</summary>
    private ScriptScope? Look()
    {
        IServer[] servers;
        try
        {
            servers = connection.GetServers();
        }
        catch (Exception exception) when (exception is RedisException or NotSupportedException or NotImplementedException)
        {
            // Not known (yet): asked again after RecheckMilliseconds, never learned as "one call per key" for good.
            return null;
        }

        ScriptScope? scope = null;
        foreach (var server in servers)
        {
            if (!server.IsConnected)
            {
                continue;
            }

            var type = server.ServerType switch
            {
                ServerType.Standalone => ScriptScope.AnyKeys,
                ServerType.Cluster => ScriptScope.HashSlot,
                _ => ScriptScope.None,
            };
            if (scope is { } seen && seen != type)
            {
                return ScriptScope.None;
            }

            scope = type;
        }

        return scope;
    }
}
