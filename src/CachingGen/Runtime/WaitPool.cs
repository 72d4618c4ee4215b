using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace CachingGen.Runtime;

/// <summary>
/// The idle waits of one kind of hot operation (a Redis command's reply, a read's lookup), bounded by membership instead
/// of by a count kept per use: a wait created while fewer than <see cref="Capacity"/> members exist is a member, and only
/// members come back after an answered use. So renting and returning touch only the queue (a count kept per use is a
/// second shared cache line that every operation's issuing and completing threads pass between them). A member whose
/// use was abandoned (a Redis command's timeout or cancellation) is not used again, and gives its membership back, so a
/// later wait can take its place.
/// </summary>
internal sealed class WaitPool<TWait>
    where TWait : class
{
    /// <summary>Members per pool; more concurrent operations than this allocate waits that are dropped after use.</summary>
    public const int Capacity = 256;

    private readonly ConcurrentQueue<TWait> _idle = new();
    private int _members;

    /// <summary>The number of members (for tests).</summary>
    internal int Members => Volatile.Read(ref _members);

    public bool TryRent([NotNullWhen(true)] out TWait? wait) => _idle.TryDequeue(out wait);

    /// <summary>The pool, for a wait being created that joins it as a member (it must then be returned after each
    /// answered use, or leave when a use is abandoned); null when the pool has all its members.</summary>
    public WaitPool<TWait>? Join()
    {
        if (Interlocked.Increment(ref _members) <= Capacity)
        {
            return this;
        }

        Interlocked.Decrement(ref _members);
        return null;
    }

    /// <summary>Takes a member back after an answered use.</summary>
    public void Return(TWait member) => _idle.Enqueue(member);

    /// <summary>A member whose use was abandoned leaves the pool for good.</summary>
    public void Leave() => Interlocked.Decrement(ref _members);
}
