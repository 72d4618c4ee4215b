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
public sealed record ReadPolicy(string Method, TimeSpan TimeToLive, TimeSpan? NullTimeToLive);

/// <summary>The policy of a <see cref="WriteThroughAttribute"/> write.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record WriteThroughPolicy(string Method, TimeSpan TimeToLive);

/// <summary>The policy of a <see cref="WriteAroundAttribute"/> write.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record WriteAroundPolicy(string Method, TimeSpan FillTimeToLive, bool Invalidate);

/// <summary>The policy of an <see cref="EvictAttribute"/> call.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record EvictPolicy(string Method);

/// <summary>The policy of a <see cref="WriteBackAttribute"/> write.</summary>
/// <param name="Method">The method's stable signature, stored in each record (for example <c>UpdateAsync(Sample.Preference)</c>).</param>
/// <param name="TimeToLive">Time to live the entry gets once its flush has committed.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record WriteBackPolicy(string Method, TimeSpan TimeToLive);
