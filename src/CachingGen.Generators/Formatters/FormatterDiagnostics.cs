using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Formatters
{
    /// <summary>
    /// Problems the formatter parser records on its models. The generator never reports them: it only skips the
    /// formatter. The analyzer (a later issue) reuses the parser and reports these descriptors; release tracking
    /// (AnalyzerReleases.*.md) and help pages come with it, hence the RS2008 suppression below.
    /// </summary>
    internal static class FormatterDiagnostics
    {
        private const string Category = "CachingGen.Serialization";

#pragma warning disable RS2008 // Release tracking is added together with the analyzer that reports these.
        /// <summary>A member's type cannot be serialized without dynamic code.</summary>
        public static readonly DiagnosticDescriptor UnsupportedMemberType = new DiagnosticDescriptor(
            "CGF001",
            "Member type cannot be serialized",
            "Member '{1}' of '{0}' has type '{2}', which cannot be serialized: {3}",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true);

        /// <summary>No constructor can be called with the serialized members.</summary>
        public static readonly DiagnosticDescriptor NoUsableConstructor = new DiagnosticDescriptor(
            "CGF002",
            "Type has no usable constructor",
            "'{0}' cannot be deserialized: {1}",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true);

        /// <summary>A type depends on another type that cannot be serialized.</summary>
        public static readonly DiagnosticDescriptor DependsOnUnsupportedType = new DiagnosticDescriptor(
            "CGF003",
            "Type depends on a type that cannot be serialized",
            "'{0}' cannot be serialized because it uses '{1}', which cannot be serialized",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true);

        /// <summary>A type that a repository method caches or logs cannot be serialized.</summary>
        public static readonly DiagnosticDescriptor UnsupportedType = new DiagnosticDescriptor(
            "CGF004",
            "Cached type cannot be serialized",
            "'{0}' used by '{1}' cannot be serialized: {2}",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true);

        /// <summary>Two members of a [MessagePackObject] type declare the same key.</summary>
        public static readonly DiagnosticDescriptor DuplicateKey = new DiagnosticDescriptor(
            "CGF005",
            "Duplicate MessagePack key",
            "'{0}' declares key {1} on more than one member",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true);
#pragma warning restore RS2008
    }
}
