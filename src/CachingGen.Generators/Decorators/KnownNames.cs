namespace CachingGen.Generators.Decorators
{
    /// <summary>Metadata names of the attributes and types the parser recognises.</summary>
    internal static class KnownNames
    {
        public const string Namespace = "CachingGen";
        public const string CachedRepositoryAttribute = "CachingGen.CachedRepositoryAttribute";
        public const string CacheKey = "CacheKeyAttribute";
        public const string Cached = "CachedAttribute";
        public const string WriteThrough = "WriteThroughAttribute";
        public const string WriteAround = "WriteAroundAttribute";
        public const string WriteBack = "WriteBackAttribute";
        public const string Evict = "EvictAttribute";

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
