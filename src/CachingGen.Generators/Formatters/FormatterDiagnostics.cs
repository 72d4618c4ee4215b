using CachingGen.Generators.Diagnostics;
using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Formatters
{
    /// <summary>
    /// The serialization rules the formatter parser records on its models. The generator never reports them (it only
    /// skips the formatter); <see cref="Analyzers.RepositoryAnalyzer"/> runs the same parser and reports them. The
    /// descriptors live in the one catalog, <see cref="DiagnosticDescriptors"/>.
    /// </summary>
    internal static class FormatterDiagnostics
    {
        /// <summary>A member's type cannot be serialized without dynamic code.</summary>
        public static DiagnosticDescriptor UnsupportedMemberType => DiagnosticDescriptors.UnsupportedMemberType;

        /// <summary>No constructor can be called with the serialized members.</summary>
        public static DiagnosticDescriptor NoUsableConstructor => DiagnosticDescriptors.NoUsableConstructor;

        /// <summary>A type depends on another type that cannot be serialized.</summary>
        public static DiagnosticDescriptor DependsOnUnsupportedType => DiagnosticDescriptors.DependsOnUnsupportedType;

        /// <summary>A type that a repository method caches or logs cannot be serialized.</summary>
        public static DiagnosticDescriptor UnsupportedType => DiagnosticDescriptors.UnsupportedCachedType;

        /// <summary>Two members of a [MessagePackObject] type declare the same key.</summary>
        public static DiagnosticDescriptor DuplicateKey => DiagnosticDescriptors.DuplicateMessagePackKey;
    }
}
