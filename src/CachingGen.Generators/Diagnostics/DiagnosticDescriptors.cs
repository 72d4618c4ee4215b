using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Diagnostics
{
    /// <summary>
    /// Every CachingGen diagnostic, with a stable ID. IDs are never reused or renumbered; each has a page at
    /// <c>docs/diagnostics/{ID}.md</c>, linked from the diagnostic.
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        /// <summary>Where the per-ID documentation pages live.</summary>
        public const string HelpLinkRoot = "https://github.com/cachinggen/cachinggen/blob/main/docs/diagnostics/";

        private const string Usage = "CachingGen.Usage";
        private const string WriteBack = "CachingGen.WriteBack";

        /// <summary>CGEN001: an annotated member is not asynchronous.</summary>
        public static readonly DiagnosticDescriptor MethodNotAsync = Create(
            "CGEN001", "Caching method must be asynchronous",
            "'{0}' is marked [{1}] but returns '{2}'. Caching methods must return Task, ValueTask, Task<T> or ValueTask<T>; make the method async or remove the attribute.",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN002: the entity has no [CacheKey] member.</summary>
        public static readonly DiagnosticDescriptor EntityWithoutKey = Create(
            "CGEN002", "Cached entity has no cache key",
            "Entity type '{0}' used by '{1}' has no [CacheKey] member. Mark the member(s) that identify an entity with [CacheKey] (for a record parameter: [property: CacheKey]).",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN003: IdempotencyKey names a member that is missing, unreadable or of an unsupported type.</summary>
        public static readonly DiagnosticDescriptor InvalidIdempotencyKey = Create(
            "CGEN003", "IdempotencyKey must name a readable member with a stable value",
            "[WriteBack(IdempotencyKey = \"{0}\")] on '{1}': {2}. Name a public readable property or field of '{3}' of an integer, string, Guid, char, bool or enum type, with nameof(...).",
            WriteBack, DiagnosticSeverity.Error);

        /// <summary>CGEN004: a time to live is out of range.</summary>
        public static readonly DiagnosticDescriptor InvalidTtl = Create(
            "CGEN004", "Time to live is out of range",
            "{0} = {1} on '{2}' is out of range: {3}",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN005: a strategy attribute on a member of a type that is not a [CachedRepository] interface.</summary>
        public static readonly DiagnosticDescriptor AttributeOutsideRepository = Create(
            "CGEN005", "Caching attribute outside a [CachedRepository] interface",
            "[{0}] on '{1}' has no effect: caching attributes only work on methods of an interface marked [CachedRepository] (or of its base interfaces), never on '{2}', which is a class or struct. Move the attribute to the repository interface the class implements.",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN006: a method's key parameters do not match the entity's key.</summary>
        public static readonly DiagnosticDescriptor KeyParametersMismatch = Create(
            "CGEN006", "Key parameters do not match the entity's cache key",
            "'{0}' must take the entity's key ({1}) as its parameters, in order, besides an optional CancellationToken; it takes ({2}). Change the parameters to match the [CacheKey] members of '{3}'.",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN007: more than one strategy on one method.</summary>
        public static readonly DiagnosticDescriptor MultipleStrategies = Create(
            "CGEN007", "One caching strategy per method",
            "'{0}' has several caching attributes ({1}). Keep exactly one.",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN008: more than one entity type in one repository.</summary>
        public static readonly DiagnosticDescriptor MultipleEntityTypes = Create(
            "CGEN008", "One entity type per cached repository",
            "[CachedRepository] '{0}' caches several entity types ({1}); they would share the key space '{2}:'. Split the interface so each caches one entity type.",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN009: a write method has nothing to take the key from.</summary>
        public static readonly DiagnosticDescriptor NoKeySource = Create(
            "CGEN009", "Write method has no entity or key to cache",
            "'{0}' is marked [{1}] but {2}. {3}",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN010: a key member has a type that cannot form a canonical key.</summary>
        public static readonly DiagnosticDescriptor UnsupportedKeyType = Create(
            "CGEN010", "Cache key member type is not supported",
            "Cache key member '{0}' of '{1}' has type '{2}', which has no canonical key encoding. Use an integer, string, Guid, bool, char or enum (not nullable).",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN011: a generic or inaccessible repository interface.</summary>
        public static readonly DiagnosticDescriptor UnsupportedInterface = Create(
            "CGEN011", "Repository interface shape is not supported",
            "[CachedRepository] '{0}' {1}. {2}",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN012: a write-back method returns a value the database produces.</summary>
        public static readonly DiagnosticDescriptor WriteBackReturnsValue = Create(
            "CGEN012", "Write-back method cannot return a database result",
            "'{0}' is marked [WriteBack] but returns '{1}'. A write-back call is acknowledged before the database write happens, so its result does not exist yet. Return Task or ValueTask, or use [WriteThrough].",
            WriteBack, DiagnosticSeverity.Error);

        /// <summary>CGEN013: write-back without an idempotency key.</summary>
        public static readonly DiagnosticDescriptor WriteBackWithoutIdempotencyKey = Create(
            "CGEN013", "Write-back without IdempotencyKey",
            "'{0}' is marked [WriteBack] without IdempotencyKey: a caller that retries the call enqueues the write twice and it is applied twice. Set IdempotencyKey = nameof(...) to a version or operation-id member of '{1}'.",
            WriteBack, DiagnosticSeverity.Warning);

        /// <summary>CGEN014: ref, out or in parameters on a caching method.</summary>
        public static readonly DiagnosticDescriptor ByRefParameter = Create(
            "CGEN014", "Caching method cannot take ref, out or in parameters",
            "Parameter '{0}' of '{1}' is passed by reference; a caching method's call may be replayed later or served from the cache, which by-reference arguments cannot follow. Pass it by value.",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN015: a [Cached] method returns something other than the entity.</summary>
        public static readonly DiagnosticDescriptor CachedReturnNotEntity = Create(
            "CGEN015", "Cached read must return the entity",
            "'{0}' is marked [Cached] but returns '{1}', which is not an entity type with [CacheKey] members. Return Task<TEntity?> or ValueTask<TEntity?>; queries returning lists cannot be invalidated by key and are not cached.",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN016: a caching method (any strategy) that declares type parameters.</summary>
        public static readonly DiagnosticDescriptor GenericCachingMethod = Create(
            "CGEN016", "Caching method cannot be generic",
            "'{0}' is generic; caching methods must not declare type parameters (the cache needs one concrete entity type). Remove the type parameters or the caching attribute.",
            Usage, DiagnosticSeverity.Error);

        private const string Serialization = "CachingGen.Serialization";

        /// <summary>CGEN017: a member's type cannot be serialized without dynamic code.</summary>
        public static readonly DiagnosticDescriptor UnsupportedMemberType = Create(
            "CGEN017", "Member type cannot be serialized",
            "Member '{1}' of '{0}' has type '{2}', which the generated formatters cannot serialize: {3}. Use a supported type (primitives, string, Guid, date and time types, enums, arrays, List/IReadOnlyList/IList/IEnumerable, Dictionary/IReadOnlyDictionary, Nullable<T>, or a class, record or struct of those), or mark the member [IgnoreMember].",
            Serialization, DiagnosticSeverity.Error);

        /// <summary>CGEN018: no constructor can be called with the serialized members.</summary>
        public static readonly DiagnosticDescriptor NoUsableConstructor = Create(
            "CGEN018", "Cached type has no usable constructor",
            "'{0}' cannot be deserialized: {1}. Give it a constructor whose parameters match its members by name, or settable/init properties.",
            Serialization, DiagnosticSeverity.Error);

        /// <summary>CGEN019: a type depends on another type that cannot be serialized.</summary>
        public static readonly DiagnosticDescriptor DependsOnUnsupportedType = Create(
            "CGEN019", "Cached type uses a type that cannot be serialized",
            "'{0}' cannot be serialized because it uses '{1}', which cannot be serialized; fix '{1}' first",
            Serialization, DiagnosticSeverity.Error);

        /// <summary>CGEN020: a type that a repository method caches or logs cannot be serialized.</summary>
        public static readonly DiagnosticDescriptor UnsupportedCachedType = Create(
            "CGEN020", "Cached or logged type cannot be serialized",
            "'{0}' used by '{1}' cannot be serialized: {2}. The cache and the write-back log store it with generated formatters only; change the type or the method signature.",
            Serialization, DiagnosticSeverity.Error);

        /// <summary>CGEN021: two members of a [MessagePackObject] type declare the same key.</summary>
        public static readonly DiagnosticDescriptor DuplicateMessagePackKey = Create(
            "CGEN021", "Duplicate MessagePack key",
            "'{0}' declares [Key({1})] on more than one member; give each member its own key",
            Serialization, DiagnosticSeverity.Error);

        /// <summary>CGEN022: write-back and direct writes on one repository's key space (a flush barrier on direct writes).</summary>
        public static readonly DiagnosticDescriptor MixedWriteStrategies = Create(
            "CGEN022", "Write-back mixed with direct writes on one key space",
            "'{0}' writes the key space '{1}:' with [WriteBack] ({2}) and with direct writes ({3}). A direct write of a key that has pending write-back records first waits until they are flushed to the database (a flush barrier). Prefer one write strategy per entity unless the direct writes are rare.",
            WriteBack, DiagnosticSeverity.Info);

        /// <summary>CGEN023: two repositories of one compilation cache one entity under two prefixes, or two entities under one prefix.</summary>
        public static readonly DiagnosticDescriptor ConflictingKeySpaces = Create(
            "CGEN023", "Two repositories share a key space unsafely",
            "[CachedRepository] '{0}' and '{1}' {2}. {3}",
            Usage, DiagnosticSeverity.Warning, WellKnownDiagnosticTags.CompilationEnd);

        /// <summary>CGEN024: a write-back argument holds mutable state that the record only snapshots.</summary>
        public static readonly DiagnosticDescriptor MutableWriteBackArgument = Create(
            "CGEN024", "Write-back argument holds mutable state",
            "Parameter '{0}' of write-back method '{1}' {2}. The write-back record is a snapshot taken at the call: later changes to it never reach the database, and the database repository receives a copy. Pass data built for the call (a new array or list, typed IReadOnlyList<T>), or copy it before the call.",
            WriteBack, DiagnosticSeverity.Warning);

        /// <summary>CGEN025: a write-around that does not invalidate leaves entries readable stale for a long time.</summary>
        public static readonly DiagnosticDescriptor StaleWriteAround = Create(
            "CGEN025", "Write-around without invalidation has a long stale-read window",
            "'{0}' is [WriteAround(Invalidate = false)]: after it writes the database, a cached entry of the key stays readable, stale, for up to {1} seconds (the longest time to live in '{2}', from '{3}'). Let it invalidate, or keep the entries of this repository short-lived.",
            Usage, DiagnosticSeverity.Info);

        /// <summary>CGEN026: a time to live longer than 30 days.</summary>
        public static readonly DiagnosticDescriptor VeryLongTtl = Create(
            "CGEN026", "Time to live is longer than 30 days",
            "{0} = {1} on '{2}' is {3} days: an entry that lives that long outlives deploys, schema changes and any missed invalidation. Use at most 2592000 seconds (30 days), or check the unit (seconds, not milliseconds).",
            Usage, DiagnosticSeverity.Warning);

        /// <summary>CGEN027: a repository with write-back methods is registered without a durable write-back log.</summary>
        public static readonly DiagnosticDescriptor WriteBackWithoutDurableLog = Create(
            "CGEN027", "Write-back repository registered without a durable log",
            "'{0}' registers '{1}', which has [WriteBack] methods, but this AddCachingGen(...) call registers no durable write-back log: acknowledged writes not yet flushed are lost when the process stops, and the runtime refuses to start. Call {2} on the builder, or UseInMemoryWriteBackLog() to accept the loss (tests, demos).",
            WriteBack, DiagnosticSeverity.Warning);

        /// <summary>CGEN028: ApplyManyWith names no method of the repository interface.</summary>
        public static readonly DiagnosticDescriptor ApplyManyMethodNotFound = Create(
            "CGEN028", "ApplyManyWith names no method of the repository",
            "[WriteBack(ApplyManyWith = \"{0}\")] on '{1}': '{2}' has no method named '{0}'. Declare it on the interface, taking one IReadOnlyList<{3}> and optionally a CancellationToken and returning Task, and name it with nameof(...).",
            WriteBack, DiagnosticSeverity.Error);

        /// <summary>CGEN029: the method ApplyManyWith names cannot take a run of the write-back method's entities.</summary>
        public static readonly DiagnosticDescriptor ApplyManyMethodShape = Create(
            "CGEN029", "ApplyManyWith method has the wrong shape",
            "[WriteBack(ApplyManyWith = \"{0}\")] on '{1}': '{0}' {2}. A multi-row method takes one collection of '{3}' that an array converts to (IReadOnlyList<{3}>, IReadOnlyCollection<{3}>, IEnumerable<{3}>, IList<{3}>, ICollection<{3}> or {3}[]), optionally a CancellationToken, and returns Task or ValueTask.",
            WriteBack, DiagnosticSeverity.Error);

        /// <summary>CGEN030: ApplyManyWith on a write-back method that takes more than the entity.</summary>
        public static readonly DiagnosticDescriptor ApplyManyNeedsOneArgument = Create(
            "CGEN030", "ApplyManyWith needs a write-back method with one data parameter",
            "[WriteBack(ApplyManyWith = \"{0}\")] on '{1}': '{1}' takes {2} arguments besides the cancellation token ({3}), but a multi-row call passes only the entities. Move the other arguments into the entity, or remove ApplyManyWith.",
            WriteBack, DiagnosticSeverity.Error);

        /// <summary>CGEN031: a [CacheVersion] member of the wrong type, unreadable, or one of several.</summary>
        public static readonly DiagnosticDescriptor InvalidCacheVersion = Create(
            "CGEN031", "Cache version member is invalid",
            "'{0}' on '{1}' cannot be the cache version: {2}. Mark exactly one readable member of type long, int, uint, DateTime or DateTimeOffset with [CacheVersion].",
            Usage, DiagnosticSeverity.Error);

        /// <summary>CGEN032: a struct entity used as Nullable&lt;T&gt; (a [Cached] result, or a write's entity argument).</summary>
        public static readonly DiagnosticDescriptor NullableStructEntity = Create(
            "CGEN032", "Struct entity cannot be nullable",
            "'{0}' uses '{1}', but the entity '{2}' is a struct, which the cache stores and passes as a value: a nullable one has no cache representation. Use '{2}' without '?', or make '{2}' a class or record class (a [Cached] read of a class entity caches 'not found' as null).",
            Usage, DiagnosticSeverity.Error);

        /// <summary>All descriptors, for the analyzer's SupportedDiagnostics.</summary>
        public static readonly DiagnosticDescriptor[] All =
        {
            MethodNotAsync, EntityWithoutKey, InvalidIdempotencyKey, InvalidTtl, AttributeOutsideRepository,
            KeyParametersMismatch, MultipleStrategies, MultipleEntityTypes, NoKeySource, UnsupportedKeyType,
            UnsupportedInterface, WriteBackReturnsValue, WriteBackWithoutIdempotencyKey, ByRefParameter,
            CachedReturnNotEntity, GenericCachingMethod, UnsupportedMemberType, NoUsableConstructor,
            DependsOnUnsupportedType, UnsupportedCachedType, DuplicateMessagePackKey, MixedWriteStrategies,
            ConflictingKeySpaces, MutableWriteBackArgument, StaleWriteAround, VeryLongTtl, WriteBackWithoutDurableLog,
            ApplyManyMethodNotFound, ApplyManyMethodShape, ApplyManyNeedsOneArgument, InvalidCacheVersion,
            NullableStructEntity,
        };

        private static DiagnosticDescriptor Create(string id, string title, string message, string category, DiagnosticSeverity severity, params string[] customTags)
            => new DiagnosticDescriptor(id, title, message, category, severity, isEnabledByDefault: true, helpLinkUri: HelpLinkRoot + id + ".md", customTags: customTags);
    }
}
