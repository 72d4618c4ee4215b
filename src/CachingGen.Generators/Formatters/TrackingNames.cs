namespace CachingGen.Generators.Formatters
{
    /// <summary>Names of the tracked steps of <see cref="FormatterGenerator"/>, for incremental-caching tests.</summary>
    internal static class TrackingNames
    {
        /// <summary>
        /// The compilation's <see cref="Common.DeclarationSnapshot"/>: Unchanged after an edit inside a body. It holds the
        /// compilation (weakly), so it is not a model and is not in <see cref="All"/>.
        /// </summary>
        public const string Declarations = "CachingGen.Formatters.Declarations";

        /// <summary>One <see cref="Common.RepositoryGate"/> per interface declaration with attributes; not in <see cref="All"/> either.</summary>
        public const string Repositories = "CachingGen.Formatters.Repositories";

        /// <summary>One <see cref="RepositoryFormatterModel"/> per <c>[CachedRepository]</c> interface.</summary>
        public const string RepositoryModels = "CachingGen.Formatters.RepositoryModels";

        /// <summary>All repositories merged and de-duplicated into one <see cref="AssemblyFormatterModel"/>.</summary>
        public const string AssemblyModel = "CachingGen.Formatters.AssemblyModel";

        /// <summary>One <see cref="FormatterTypeModel"/> per emitted formatter.</summary>
        public const string Formatters = "CachingGen.Formatters.Formatters";

        /// <summary>The <see cref="ResolverModel"/> the resolver file is emitted from.</summary>
        public const string Resolver = "CachingGen.Formatters.Resolver";

        /// <summary>Every tracking name of this generator.</summary>
        public static readonly string[] All = { RepositoryModels, AssemblyModel, Formatters, Resolver };
    }
}
