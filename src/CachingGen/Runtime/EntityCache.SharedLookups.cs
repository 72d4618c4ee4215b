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
/// in progress therefore waits for it and then reads on without its answer: the miss's open flight (a stampede: one
/// load, and one more lookup that lets them take its value as soon as it is loaded), or the next lookup of the key,
/// which every reader that waited shares (a hot key: two lookups for a burst of readers, not one per reader). The
/// in-memory store answers at once, so its lookups are never shared.</para>
/// </remarks>
public sealed partial class EntityCache<TEntity>
{
    /// <summary>Slots of lookups in progress, a key's slot chosen by its hash. A power of two: far more than the lookups
    /// one process has in flight at once, so two keys rarely meet in a slot, and when they do the second key's reader
    /// simply looks up alone.</summary>
    private const int SharedLookupSlots = 512;

    /// <summary>The lookup in progress in each slot, null when this cache does not share lookups. A slot is empty
    /// (null), or holds the key string of a lookup in progress that nobody waits for, or that lookup's
    /// <see cref="SharedLookup"/> once a reader waits for it. Only the lookup's own reader empties the slot, and only
    /// waiting readers turn its key into a <see cref="SharedLookup"/>: so the lookup's reader learns with the one
    /// compare-and-swap that frees the slot whether anyone waits, and a lookup nobody shares costs no allocation.</summary>
    private readonly object?[]? _sharedLookups;

    /// <summary>Whether readers of one key share lookups on <paramref name="runtime"/>'s store: unless the options turn it
    /// off, or the store is the in-memory one (it answers at once, so sharing would only cost its hits two
    /// compare-and-swaps).</summary>
    private static bool SharesLookupsOn(CachingGenRuntime runtime)
        => runtime.Options.ShareConcurrentLookups && runtime.Store is not InMemoryCacheStore;

    /// <summary>
    /// Finds the lookup of <paramref name="key"/> this reader shares (true: wait for <paramref name="shared"/>), or
    /// registers the reader's own lookup in the key's slot (<paramref name="owned"/>, which it must end with
    /// <see cref="EndSharedLookup"/>), or neither when another key's lookup holds the slot. <paramref name="mayTakeAnswer"/>:
    /// the shared lookup was registered after this read started, so it is sent after it too, and its answer is as new as
    /// any write this read must see.
    /// </summary>
    private bool TryShareLookup(string key, long eventsSeen, bool afterSharedLookup, out OwnedLookup owned, [NotNullWhen(true)] out SharedLookup? shared, out bool mayTakeAnswer)
    {
        var index = SlotOf(key);
        ref var slot = ref _sharedLookups![index];
        var occupant = Volatile.Read(ref slot);
        owned = default;
        mayTakeAnswer = afterSharedLookup;
        if (occupant is null)
        {
            occupant = Interlocked.CompareExchange(ref slot, key, null);
            if (occupant is null)
            {
                owned = new OwnedLookup(key, index, eventsSeen);
                shared = null;
                return false;
            }

            // Registered between this reader's first look at the slot and its own attempt: after this read started.
            mayTakeAnswer = true;
        }

        shared = WaitFor(ref slot, occupant, key);
        return shared is not null;
    }

    /// <summary>The <see cref="SharedLookup"/> of the lookup of <paramref name="key"/> that holds the slot as
    /// <paramref name="occupant"/>, made when this is its first waiting reader; null when the slot holds another key's
    /// lookup, or changed meanwhile to anything but that lookup's <see cref="SharedLookup"/> (the reader then looks up
    /// alone). A <see cref="SharedLookup"/> found after a change may belong to a newer lookup of the key than the one
    /// first seen: registered later, so taking its answer is allowed whenever taking the first one's was.</summary>
    internal static SharedLookup? WaitFor(ref object? slot, object occupant, string key)
    {
        if (occupant is SharedLookup waited)
        {
            return string.Equals(waited.Key, key, StringComparison.Ordinal) ? waited : null;
        }

        var registered = (string)occupant;
        if (!string.Equals(registered, key, StringComparison.Ordinal))
        {
            return null;
        }

        var created = new SharedLookup(key);
        var seen = Interlocked.CompareExchange(ref slot, created, registered);
        if (ReferenceEquals(seen, registered))
        {
            return created;
        }

        return seen is SharedLookup other && string.Equals(other.Key, key, StringComparison.Ordinal) ? other : null;
    }

    /// <summary>Whether this cache shares lookups (see <see cref="SharesLookupsOn"/>), for tests.</summary>
    internal bool SharesLookups => _sharedLookups is not null;

    /// <summary>The number of readers waiting for the lookup of <paramref name="key"/> in progress (0 when none), for tests.</summary>
    internal int GetLookupWaiters(string key)
        => _sharedLookups?[SlotOf(key)] is SharedLookup lookup && string.Equals(lookup.Key, key, StringComparison.Ordinal) ? lookup.Waiters : 0;

    /// <summary>Whether a lookup of <paramref name="key"/> holds its slot, for tests.</summary>
    internal bool HasLookupInProgress(string key)
        => _sharedLookups?[SlotOf(key)] switch
        {
            string registered => string.Equals(registered, key, StringComparison.Ordinal),
            SharedLookup lookup => string.Equals(lookup.Key, key, StringComparison.Ordinal),
            _ => false,
        };

    internal static int SlotOf(string key) => key.GetHashCode() & (SharedLookupSlots - 1);

    /// <summary>Frees the slot of <paramref name="owned"/>, then hands its outcome to the readers waiting for it, if any,
    /// and forgets it (default), so a path that ends it and then fails cannot end it a second time. The slot is freed
    /// first, so a reader that comes back to the key finds it free or holding a newer lookup. <paramref name="opened"/>:
    /// the open flight this lookup's miss just started, whose load has not started yet, which the latecomers (see
    /// <see cref="SharedLookup.TryWaitAsLatecomer"/>) join here. True when they joined it.</summary>
    private bool EndSharedLookup(ref OwnedLookup owned, SharedLookupOutcome outcome, CacheLookup answer, Flight? opened = null)
    {
        if (owned.Key is null)
        {
            return false;
        }

        var ending = owned;
        owned = default;
        ref var slot = ref _sharedLookups![ending.Slot];

        // While the lookup holds the slot, the slot holds its very key string or, once a reader waits, its SharedLookup:
        // nobody else registers in a taken slot, and waiting readers swap only that string.
        var occupant = Interlocked.CompareExchange(ref slot, null, ending.Key);
        if (ReferenceEquals(occupant, ending.Key))
        {
            return false;
        }

        var waited = (SharedLookup)occupant!;
        Volatile.Write(ref slot, null);
        return waited.End(outcome, answer, ending.EventsSeen, opened);
    }

    /// <summary>How a shared lookup ended.</summary>
    internal enum SharedLookupOutcome
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

    /// <summary>A reader's own lookup, registered in slot <see cref="Slot"/> under its key string; default when the
    /// reader registered none.</summary>
    /// <param name="Key">The key string the slot holds while nobody waits (compared by reference when the slot is freed).</param>
    /// <param name="Slot">The slot's index.</param>
    /// <param name="EventsSeen">The <c>_flightEvents</c> the reader noted before registering (see <see cref="SharedLookup.EventsSeen"/>).</param>
    private readonly record struct OwnedLookup(string? Key, int Slot, long EventsSeen);

    /// <summary>A lookup of a key in progress that readers wait for, and what they need when it ends.</summary>
    internal sealed class SharedLookup(string key)
    {
        /// <summary><see cref="_latecomers"/> once the lookup has ended: no more latecomers are taken.</summary>
        private const int LatecomersClosed = int.MinValue;

        private LazySignal _ended;

        /// <summary>Set when the latecomers may go on: when the lookup ended without handing them to a flight, when the
        /// flight they were handed to settled, or when it loaded its value after their right to it was confirmed.</summary>
        private LazySignal _latecomersGo;

        /// <summary>How many readers wait for <see cref="_ended"/>.</summary>
        private int _waiters;

        /// <summary>How many latecomers wait (see <see cref="TryWaitAsLatecomer"/>); <see cref="LatecomersClosed"/> once ended.</summary>
        private int _latecomers;

        public string Key => key;

        /// <summary>The <c>_flightEvents</c> the lookup's reader noted before registering it. A reader that takes its
        /// answer uses the larger of this and its own (see <see cref="WaitToReadOnAsync"/>).</summary>
        public long EventsSeen { get; private set; }

        /// <summary>The readers waiting, latecomers included (read by tests while the lookup is in progress).</summary>
        public int Waiters => Volatile.Read(ref _waiters) + Math.Max(Volatile.Read(ref _latecomers), 0);

        public SharedLookupOutcome Outcome { get; private set; }

        public CacheLookup Answer { get; private set; }

        /// <summary>The flight the latecomers were joined to when the lookup ended; null when they were not (they then
        /// read on as the other waiters do).</summary>
        public Flight? HandedFlight { get; private set; }

        /// <summary>Records the outcome, then wakes the waiters (the exchange publishes the outcome to them). The
        /// latecomers join <paramref name="opened"/> (their count in one step) and wake only when it settles or when their
        /// right to its value is confirmed, unless there is no such flight or every waiter of it has left; true when they
        /// joined it. Once this returns no reader joins the latecomers any more.</summary>
        public bool End(SharedLookupOutcome outcome, CacheLookup answer, long eventsSeen, Flight? opened)
        {
            Outcome = outcome;
            Answer = answer;
            EventsSeen = eventsSeen;
            var latecomers = Interlocked.Exchange(ref _latecomers, LatecomersClosed);
            var handed = latecomers > 0 && opened is not null && opened.TryJoin(latecomers);
            if (handed)
            {
                HandedFlight = opened;
                opened!.ReleaseAtSettlement(this);
            }
            else
            {
                _latecomersGo.Set();
            }

            _ended.Set();
            return handed;
        }

        /// <summary>
        /// Waits as a latecomer: a reader that may not take this lookup's answer (it started after the lookup was sent)
        /// and cannot leave (its token cannot be cancelled). On a miss such a reader only joins the flight the miss opens
        /// and waits for it to settle, so the lookup's reader joins it on its behalf (see <see cref="End"/>) and it wakes
        /// once, at the settlement (or when the value is loaded, see <see cref="Flight.ConfirmLatecomers"/>), instead of
        /// once when the lookup ends and again later: in a stampede those first wakes of every latecomer queued on the
        /// thread pool ahead of the load's own continuation.
        /// False once the lookup has ended (the reader then waits as the others do).
        /// </summary>
        public bool TryWaitAsLatecomer([NotNullWhen(true)] out Task? go)
        {
            while (true)
            {
                var latecomers = Volatile.Read(ref _latecomers);
                if (latecomers == LatecomersClosed)
                {
                    go = null;
                    return false;
                }

                if (Interlocked.CompareExchange(ref _latecomers, latecomers + 1, latecomers) == latecomers)
                {
                    go = _latecomersGo.WhenSet();
                    return true;
                }
            }
        }

        /// <summary>Set before the latecomers go: they take the flight's value without waiting for its fill (see
        /// <see cref="Flight.ConfirmLatecomers"/>).</summary>
        public bool LatecomersTakeValue { get; private set; }

        /// <summary>Lets the latecomers go: the flight they were handed to settled, or (<paramref name="mayTakeValue"/>)
        /// loaded its value after their right to it was confirmed.</summary>
        public void ReleaseLatecomers(bool mayTakeValue)
        {
            LatecomersTakeValue = mayTakeValue;
            _latecomersGo.Set();
        }

        /// <summary>Completes when the lookup has ended.</summary>
        public Task WhenEndedAsync()
        {
            Interlocked.Increment(ref _waiters);
            return _ended.WhenSet();
        }
    }
}
