using CachingGen.Generators.Common;

namespace CachingGen.Generators.Decorators
{
    /// <summary>Everything the emitter needs to write the decorator of one annotated interface. Plain, equatable data.</summary>
    internal sealed record RepositoryModel(
        string Namespace,
        string InterfaceGlobalName,
        string StableName,
        string DecoratorName,
        string RegistrationName,
        string Accessibility,
        string KeyPrefix,
        int DefaultTtlSeconds,
        EntityModel Entity,
        EquatableArray<MemberModel> Members,
        bool HasWriteBack)
    {
        /// <summary>The hint name of the generated file.</summary>
        public string HintName => (Namespace.Length == 0 ? DecoratorName : Namespace + "." + DecoratorName) + ".g.cs";
    }

    /// <summary>The cached entity type and the members that form its key, in order.</summary>
    internal sealed record EntityModel(string GlobalName, bool IsReferenceType, EquatableArray<KeyPartModel> KeyParts)
    {
        /// <summary>The [CacheVersion] member; null when the entity has none (its decorator then asks for an unversioned cache).</summary>
        public VersionModel? Version { get; init; }
    }

    /// <summary>The entity's [CacheVersion] member and how its value becomes the long the runtime compares.</summary>
    internal sealed record VersionModel(string MemberName, VersionConversion Conversion);

    /// <summary>How a [CacheVersion] value becomes a <c>long</c>; every supported type fits without losing order.</summary>
    internal enum VersionConversion
    {
        /// <summary><c>int</c>, <c>uint</c> or <c>long</c>: <c>(long)value</c>. Narrower integer types are refused (CGEN031): they wrap around.</summary>
        Widen,

        /// <summary><c>DateTime</c>: <c>value.Ticks</c>.</summary>
        Ticks,

        /// <summary><c>DateTimeOffset</c>: <c>value.UtcTicks</c>, so two offsets of one instant are one version.</summary>
        UtcTicks,
    }

    /// <summary>One member of the entity's key.</summary>
    internal sealed record KeyPartModel(string MemberName, KeyEncoding Encoding, string CastType);

    /// <summary>How a key (or idempotency) value is encoded by <c>CacheKey</c>.</summary>
    internal enum KeyEncoding
    {
        /// <summary>Signed integer: widened to <c>long</c>.</summary>
        Signed,

        /// <summary>Unsigned integer: widened to <c>ulong</c>.</summary>
        Unsigned,

        /// <summary>Passed as it is (<c>string</c>, <c>Guid</c>, <c>bool</c>, <c>char</c>).</summary>
        Direct,
    }

    /// <summary>The caching strategy of a method.</summary>
    internal enum Strategy
    {
        /// <summary>No attribute: the call passes straight through.</summary>
        PassThrough,

        /// <summary>[Cached].</summary>
        Cached,

        /// <summary>[WriteThrough].</summary>
        WriteThrough,

        /// <summary>[WriteAround].</summary>
        WriteAround,

        /// <summary>[WriteBack].</summary>
        WriteBack,

        /// <summary>[Evict].</summary>
        Evict,
    }

    /// <summary>How a method is awaited and what it returns.</summary>
    internal enum ReturnKind
    {
        /// <summary>Anything else (only for pass-through members).</summary>
        Other,

        /// <summary><c>Task</c>.</summary>
        Task,

        /// <summary><c>ValueTask</c>.</summary>
        ValueTask,

        /// <summary><c>Task&lt;T&gt;</c>.</summary>
        TaskOfT,

        /// <summary><c>ValueTask&lt;T&gt;</c>.</summary>
        ValueTaskOfT,
    }

    /// <summary>Where the keys of a call come from.</summary>
    internal enum KeySourceKind
    {
        /// <summary>Not needed (pass-through).</summary>
        None,

        /// <summary>The key parameters, one per key part, in order.</summary>
        KeyParameters,

        /// <summary>One entity parameter.</summary>
        Entity,

        /// <summary>A collection of entities.</summary>
        EntityCollection,

        /// <summary>A collection of single-part key values.</summary>
        KeyCollection,
    }

    /// <summary>The kind of interface member.</summary>
    internal enum MemberKind
    {
        /// <summary>A method.</summary>
        Method,

        /// <summary>A property or indexer.</summary>
        Property,

        /// <summary>An event.</summary>
        Event,
    }

    /// <summary>One member of the interface (its own or inherited), to implement in the decorator.</summary>
    internal sealed record MemberModel(
        MemberKind Kind,
        string Name,
        string DeclaringInterface,
        bool ExplicitImplementation,
        string ReturnType,
        ReturnKind ReturnKind,
        string? ResultType,
        bool ResultIsNonNullableReference,
        EquatableArray<ParameterModel> Parameters,
        string TypeParameters,
        Strategy Strategy,
        int TtlSeconds,
        int NullTtlSeconds,
        bool Invalidate,
        KeySourceKind KeySource,
        EquatableArray<int> KeyParameterIndexes,
        bool CollectionNeedsMaterializing,
        string? CollectionElementType,
        string? IdempotencyMember,
        KeyEncoding IdempotencyEncoding,
        string? IdempotencyCastType,
        string StableSignature,
        bool HasGetter,
        bool HasSetter,
        bool IsIndexer)
    {
        /// <summary>[WriteBack(Coalesce = true)]: the flusher may skip a record a later one of its key and method supersedes.</summary>
        public bool Coalesce { get; init; }

        /// <summary>[WriteBack(ApplyManyWith = ...)]: the inner method the flusher calls once with a run of this method's entities.</summary>
        public ApplyManyModel? ApplyMany { get; init; }
    }

    /// <summary>The multi-row method a write-back method names (<c>ApplyManyWith</c>), checked by <see cref="MultiRowApply"/>.</summary>
    /// <param name="MethodName">The method's name.</param>
    /// <param name="DeclaringInterface">The interface that declares it (the call goes through it, so a base interface's method is reached even when a name clashes).</param>
    /// <param name="ElementType">The element type of its collection parameter, as declared.</param>
    /// <param name="TokenIndex">The position of its CancellationToken parameter (0 or 1), or -1 without one.</param>
    /// <param name="ReturnsTask">Whether it returns Task (else ValueTask).</param>
    internal sealed record ApplyManyModel(string MethodName, string DeclaringInterface, string ElementType, int TokenIndex, bool ReturnsTask);

    /// <summary>One parameter of a member.</summary>
    internal sealed record ParameterModel(string Name, string Type, string RefKind, bool IsCancellationToken, bool IsParams, string? DefaultValue);
}
