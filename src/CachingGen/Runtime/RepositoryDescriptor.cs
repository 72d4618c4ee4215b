using System.ComponentModel;
using MessagePack;

namespace CachingGen.Runtime;

/// <summary>What the generator knows about one annotated repository interface, handed to the runtime once.</summary>
/// <param name="Name">The interface's stable name (namespace-qualified, no <c>global::</c>), used in write-back records and telemetry.</param>
/// <param name="KeyPrefix">The first segment of every key of this repository.</param>
/// <param name="SerializerOptions">The generated resolver's options (<c>CachingGen.Generated.CachingGenFormatterResolver.Options</c>).</param>
/// <param name="HasWriteBack">Whether any method of the interface is <see cref="WriteBackAttribute"/>: direct writes then keep per-key order with pending write-back records.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record RepositoryDescriptor(string Name, string KeyPrefix, MessagePackSerializerOptions SerializerOptions, bool HasWriteBack);

/// <summary>The policy of a <see cref="CachedAttribute"/> read.</summary>
/// <param name="Method">The method's name, for logs and metrics.</param>
/// <param name="TimeToLive">Time to live of a filled entry.</param>
/// <param name="NullTimeToLive">Time to live of a cached "not found"; null never caches "not found".</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record ReadPolicy(string Method, TimeSpan TimeToLive, TimeSpan? NullTimeToLive)
{
    /// <summary>Time to live of a filled entry (positive).</summary>
    public TimeSpan TimeToLive { get; init; } = PolicyTimeToLive.Require(TimeToLive, nameof(TimeToLive));

    /// <summary>Time to live of a cached "not found" (positive), or null.</summary>
    public TimeSpan? NullTimeToLive { get; init; } = NullTimeToLive is { } ttl ? PolicyTimeToLive.Require(ttl, nameof(NullTimeToLive)) : null;
}

/// <summary>The policy of a <see cref="WriteThroughAttribute"/> write.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record WriteThroughPolicy(string Method, TimeSpan TimeToLive)
{
    /// <summary>Time to live of the written entry (positive).</summary>
    public TimeSpan TimeToLive { get; init; } = PolicyTimeToLive.Require(TimeToLive, nameof(TimeToLive));
}

/// <summary>The policy of a <see cref="WriteAroundAttribute"/> write.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record WriteAroundPolicy(string Method, TimeSpan FillTimeToLive, bool Invalidate)
{
    /// <summary>Time to live of the next fill (positive).</summary>
    public TimeSpan FillTimeToLive { get; init; } = PolicyTimeToLive.Require(FillTimeToLive, nameof(FillTimeToLive));
}

/// <summary>The policy of an <see cref="EvictAttribute"/> call.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record EvictPolicy(string Method);

/// <summary>The policy of a <see cref="WriteBackAttribute"/> write.</summary>
/// <param name="Method">The method's stable signature, stored in each record (for example <c>UpdateAsync(Sample.Preference)</c>).</param>
/// <param name="TimeToLive">Time to live the entry gets once its flush has committed.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record WriteBackPolicy(string Method, TimeSpan TimeToLive)
{
    /// <summary>Time to live the entry gets once its flush has committed (positive).</summary>
    public TimeSpan TimeToLive { get; init; } = PolicyTimeToLive.Require(TimeToLive, nameof(TimeToLive));

    /// <summary>Whether consecutive records of this method on one key may be coalesced (<see cref="WriteBackAttribute.Coalesce"/>);
    /// every record the method appends carries it (<see cref="WriteBack.WriteBackRecord.Coalesce"/>).</summary>
    public bool Coalesce { get; init; }
}

/// <summary>Policies are checked when they are built (once per decorator type), so a bad time to live fails before any
/// database write, never after a commit.</summary>
internal static class PolicyTimeToLive
{
    public static TimeSpan Require(TimeSpan timeToLive, string name)
        => timeToLive > TimeSpan.Zero
            ? timeToLive
            : throw new ArgumentOutOfRangeException(name, timeToLive, $"A cache time to live must be positive; {name} was {timeToLive}. Set the attribute's Ttl (seconds) to a positive value.");
}
