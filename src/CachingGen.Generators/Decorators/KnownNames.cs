namespace CachingGen.Generators.Decorators
{
    /// <summary>Metadata names of the attributes and types the parser recognises.</summary>
    internal static class KnownNames
    {
        public const string Namespace = "CachingGen";
        public const string CachedRepository = "CachedRepositoryAttribute";
        public const string CacheKey = "CacheKeyAttribute";
        public const string CacheVersion = "CacheVersionAttribute";
        public const string Cached = "CachedAttribute";
        public const string WriteThrough = "WriteThroughAttribute";
        public const string WriteAround = "WriteAroundAttribute";
        public const string WriteBack = "WriteBackAttribute";
        public const string Evict = "EvictAttribute";

        /// <summary>The builder that <c>AddCachingGen</c> returns and repository registrations extend.</summary>
        public const string BuilderName = "CachingGenBuilder";

        /// <summary>The <c>IServiceCollection</c> extension that starts a CachingGen registration.</summary>
        public const string AddCachingGen = "AddCachingGen";

        /// <summary>The write-back log interface (namespace CachingGen.WriteBack).</summary>
        public const string WriteBackLogInterface = "IWriteBackLog";

        /// <summary>The option that accepts a non-durable write-back log.</summary>
        public const string AllowNonDurableWriteBack = "AllowNonDurableWriteBack";

        /// <summary>The durable write-back log registration suggested by CGEN027.</summary>
        public const string DurableLogRegistration = "UseRedisWriteBackLog(...)";

        /// <summary>
        /// Builder methods that choose the write-back log explicitly: the durable logs' registrations, and the explicit
        /// opt-in to the in-memory log. One list, so a new durable log package only needs its method name added here.
        /// </summary>
        public static readonly string[] WriteBackLogChoices = { "UseRedisWriteBackLog", "UseInMemoryWriteBackLog" };

        /// <summary>Whether <paramref name="attributeName"/> is one of the per-method strategy attributes.</summary>
        public static Strategy StrategyOf(string attributeName)
        {
            switch (attributeName)
            {
                case Cached: return Strategy.Cached;
                case WriteThrough: return Strategy.WriteThrough;
                case WriteAround: return Strategy.WriteAround;
                case WriteBack: return Strategy.WriteBack;
                case Evict: return Strategy.Evict;
                default: return Strategy.PassThrough;
            }
        }

        /// <summary>The attribute's name as a user writes it, for messages.</summary>
        public static string DisplayName(Strategy strategy)
        {
            switch (strategy)
            {
                case Strategy.Cached: return "Cached";
                case Strategy.WriteThrough: return "WriteThrough";
                case Strategy.WriteAround: return "WriteAround";
                case Strategy.WriteBack: return "WriteBack";
                case Strategy.Evict: return "Evict";
                default: return "none";
            }
        }
    }
}
