using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using CachingGen.Storage;

namespace CachingGen.Runtime;

/// <remarks>
/// <para><b>Shared lookups.</b> Concurrent reads of one key share the store's round trips: a reader that finds a lookup
/// of its key in progress waits for it instead of sending its own. It may take that lookup's answer only when the
/// lookup was sent after the reader started: an answer Redis gave before a write was acknowledged may be older than
/// that write, and a read must see every write acknowledged before it started. A reader that found the lookup already
/// in progress therefore waits for it and then reads on without its answer: the miss's open flight (a stampede:
/// one lookup, one load), or the next lookup of the key, which every reader that waited shares (a hot key: two lookups
/// for a burst of readers, not one per reader). The in-memory store answers at once, so its lookups are never shared.</para>
/// </remarks>
public sealed partial class EntityCache<TEntity>
{
    /// <summary>Slots of lookups in progress, a key's slot chosen by its hash. A power of two: far more than the lookups
    /// one process has in flight at once, so two keys rarely meet in a slot, and when they do the second key's reader
    /// simply looks up alone.</summary>
    private const int SharedLookupSlots = 512;

    /// <summary>The lookup in progress in each slot; null when this cache does not share lookups.</summary>
    private readonly SharedLookup?[]? _sharedLookups;

    /// <summary>Whether readers of one key share lookups on <paramref name="runtime"/>'s store: unless the options turn it
    /// off, or the store is the in-memory one (it answers at once, and a shared lookup would cost a hit an allocation).</summary>
    private static bool SharesLookupsOn(CachingGenRuntime runtime)
        => runtime.Options.ShareConcurrentLookups && runtime.Store is not InMemoryCacheStore;

    /// <summary>
    /// Finds the lookup of <paramref name="key"/> this reader shares (true: wait for <paramref name="shared"/>), or
    /// registers the reader's own lookup in the key's slot (<paramref name="owned"/>, which it must end with
    /// <see cref="EndSharedLookup"/>), or neither when another key's lookup holds the slot. <paramref name="mayTakeAnswer"/>:
    /// the shared lookup was registered after this read started, so it is sent after it too, and its answer is as new as
    /// any write this read must see.
    /// </summary>
    private bool TryShareLookup(string key, long eventsSeen, bool afterSharedLookup, out SharedLookup? owned, [NotNullWhen(true)] out SharedLookup? shared, out bool mayTakeAnswer)
    {
        var slots = _sharedLookups!;
        var index = SlotOf(key);
        ref var slot = ref slots[index];
        var occupant = Volatile.Read(ref slot);
        owned = null;
        mayTakeAnswer = afterSharedLookup;
        if (occupant is null)
        {
            var mine = new SharedLookup(key, index, eventsSeen);
            occupant = Interlocked.CompareExchange(ref slot, mine, null);
            if (occupant is null)
            {
                owned = mine;
                shared = null;
                return false;
            }

            // Registered between this reader's first look at the slot and its own attempt: after this read started.
            mayTakeAnswer = true;
        }

        shared = string.Equals(occupant.Key, key, StringComparison.Ordinal) ? occupant : null;
        return shared is not null;
    }

    /// <summary>Whether this cache shares lookups (see <see cref="SharesLookupsOn"/>), for tests.</summary>
    internal bool SharesLookups => _sharedLookups is not null;

    /// <summary>The number of readers waiting for the lookup of <paramref name="key"/> in progress (0 when none), for tests.</summary>
    internal int GetLookupWaiters(string key)
        => _sharedLookups?[SlotOf(key)] is { } lookup && string.Equals(lookup.Key, key, StringComparison.Ordinal) ? lookup.Waiters : 0;

    /// <summary>Whether a lookup of <paramref name="key"/> holds its slot, for tests.</summary>
    internal bool HasLookupInProgress(string key)
        => _sharedLookups?[SlotOf(key)] is { } lookup && string.Equals(lookup.Key, key, StringComparison.Ordinal);

    internal static int SlotOf(string key) => key.GetHashCode() & (SharedLookupSlots - 1);

    /// <summary>Takes <paramref name="owned"/> out of its slot, then hands its outcome to the readers waiting for it, and
    /// forgets it (null), so a path that ends it and then fails cannot end it a second time. The slot is freed first, so
    /// a reader that comes back to the key finds it free or holding a newer lookup.</summary>
    private void EndSharedLookup(ref SharedLookup? owned, SharedLookupOutcome outcome, CacheLookup answer)
    {
        if (owned is null)
        {
            return;
        }

        // No compare-and-swap needed: other readers only fill an empty slot, so while the slot holds this lookup no
        // one else can change it, and a plain release write frees it without another locked instruction per read.
        ref var slot = ref _sharedLookups![owned.Slot];
        if (ReferenceEquals(Volatile.Read(ref slot), owned))
        {
            Volatile.Write(ref slot, null);
        }

        var ending = owned;
        owned = null;
        ending.End(outcome, answer);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async ValueTask<TEntity?> ReadOnSharedLookupAsync<TState>(SharedLookup shared, bool mayTakeAnswer, long eventsSeen, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
    {
        await shared.WhenEndedAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (shared.Outcome == SharedLookupOutcome.Unavailable)
        {
            // Its reader reported the outage; this read goes to the database as that one does.
            return await BypassAsync(policy, state, load, activity, cancellationToken).ConfigureAwait(false);
        }

        if (mayTakeAnswer && shared.Outcome == SharedLookupOutcome.Answered)
        {
            // The lookup's reader noted its number before registering, which may be before this read started: a
            // flight whose load started in between would seem to have started after this read's lookup. This read's
            // own number was noted before the shared lookup was sent, and a larger number only makes Flight.Meet stricter.
            return await ReadOnAnswer(shared.Answer, null, key, policy, state, load, Math.Max(eventsSeen, shared.EventsSeen), activity, cancellationToken).ConfigureAwait(false);
        }

        // The lookup was sent before this read started (or failed for its own reader, who cancelled): on a miss it left
        // an open flight, which this read may join; otherwise the key is looked up again, by a lookup sent after now.
        return await JoinOrLookUpAsync(key, policy, state, load, activity, afterSharedLookup: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How a shared lookup ended.</summary>
    private enum SharedLookupOutcome
    {
        /// <summary>Not ended (never read: readers look only after it ended).</summary>
        Running,

        /// <summary>The store answered: <see cref="SharedLookup.Answer"/>.</summary>
        Answered,

        /// <summary>The store was unavailable; the lookup's reader reported the outage.</summary>
        Unavailable,

        /// <summary>The lookup failed otherwise (its reader's cancellation, an unexpected error its reader saw).</summary>
        Failed,
    }

    /// <summary>One lookup of a key in progress, and the readers waiting for it.</summary>
    private sealed class SharedLookup(string key, int slot, long eventsSeen)
    {
        private LazySignal _ended;

        private int _waiters;

        public string Key => key;

        public int Slot => slot;

        /// <summary>The <c>_flightEvents</c> its reader noted before registering it. A reader that takes its answer
        /// uses the larger of this and its own (see <see cref="ReadOnSharedLookupAsync"/>).</summary>
        public long EventsSeen => eventsSeen;

        public int Waiters => Volatile.Read(ref _waiters);

        public SharedLookupOutcome Outcome { get; private set; }

        public CacheLookup Answer { get; private set; }

        /// <summary>Records the outcome, then wakes the waiters (the exchange publishes the outcome to them).</summary>
        public void End(SharedLookupOutcome outcome, CacheLookup answer)
        {
            Outcome = outcome;
            Answer = answer;
            _ended.Set();
        }

        /// <summary>Completes when the lookup has ended.</summary>
        public Task WhenEndedAsync()
        {
            Interlocked.Increment(ref _waiters);
            return _ended.WhenSet();
        }
    }
}
