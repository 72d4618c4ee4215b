using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using CachingGen.Generators.Common;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Generators.Formatters
{
    /// <summary>
    /// Turns a <c>[CachedRepository]</c> interface into a <see cref="RepositoryFormatterModel"/>: every type its
    /// strategy methods cache or log, walked transitively, as equatable data. Pure: no diagnostics are reported.
    /// </summary>
    internal static class FormatterParser
    {
        /// <summary>Parses <paramref name="repository"/>. Never throws except for cancellation.</summary>
        public static RepositoryFormatterModel Parse(INamedTypeSymbol repository, Compilation compilation, CancellationToken cancellationToken)
        {
            var interfaceName = TypeNames.GlobalWithoutNullable(repository);
            try
            {
                var collector = new TypeCollector(compilation, cancellationToken);
                VisitMethods(repository, collector, cancellationToken);
                foreach (var inherited in repository.AllInterfaces)
                {
                    VisitMethods(inherited, collector, cancellationToken);
                }

                return collector.Build(interfaceName);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
#pragma warning disable CA1031 // The generator must never throw: an unexpected failure yields an empty model.
            catch (Exception)
#pragma warning restore CA1031
            {
                return new RepositoryFormatterModel(interfaceName, EquatableArray<FormatterTypeModel>.Empty, EquatableArray<ShapeModel>.Empty, EquatableArray<DiagnosticInfo>.Empty);
            }
        }

        private static void VisitMethods(INamedTypeSymbol type, TypeCollector collector, CancellationToken cancellationToken)
        {
            foreach (var member in type.GetMembers())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary, IsStatic: false } method)
                {
                    continue;
                }

                var strategy = GetStrategy(method);
                var owner = method.ContainingType.Name + "." + method.Name;
                if (strategy == Strategy.Cached)
                {
                    var returned = UnwrapTask(method.ReturnType);
                    if (returned is not null)
                    {
                        collector.AddRoot(returned, owner, method);
                    }
                }
                else if (strategy == Strategy.Write)
                {
                    foreach (var parameter in method.Parameters)
                    {
                        if (!SymbolFacts.IsCancellationToken(parameter.Type))
                        {
                            collector.AddRoot(parameter.Type, owner, parameter);
                        }
                    }
                }
            }
        }

        private enum Strategy
        {
            None,
            Cached,
            Write,
            Evict,
        }

        private static Strategy GetStrategy(IMethodSymbol method)
        {
            foreach (var attribute in method.GetAttributes())
            {
                var attributeClass = attribute.AttributeClass;
                if (attributeClass is null || !SymbolFacts.IsNamespace(attributeClass.ContainingNamespace, KnownNames.Namespace, null))
                {
                    continue;
                }

                switch (KnownNames.StrategyOf(attributeClass.Name))
                {
                    case Decorators.Strategy.Cached:
                        return Strategy.Cached;
                    case Decorators.Strategy.WriteThrough:
                    case Decorators.Strategy.WriteAround:
                    case Decorators.Strategy.WriteBack:
                        return Strategy.Write;
                    case Decorators.Strategy.Evict:
                        return Strategy.Evict;
                }
            }

            return Strategy.None;
        }

        /// <summary>What a read returns once awaited; a synchronous (invalid) read still gets its type's formatter.</summary>
        private static ITypeSymbol? UnwrapTask(ITypeSymbol type)
        {
            if (type.SpecialType == SpecialType.System_Void)
            {
                return null;
            }

            return SymbolFacts.IsTaskLike(type, out _, out var result) ? result : type;
        }

        /// <summary>The strongly typed special types that <c>MessagePackWriter.Write</c>/<c>MessagePackReader.ReadX</c> handle inline.</summary>
        internal static string? PrimitiveName(SpecialType specialType) => specialType switch
        {
            SpecialType.System_Boolean => "Boolean",
            SpecialType.System_Char => "Char",
            SpecialType.System_SByte => "SByte",
            SpecialType.System_Byte => "Byte",
            SpecialType.System_Int16 => "Int16",
            SpecialType.System_UInt16 => "UInt16",
            SpecialType.System_Int32 => "Int32",
            SpecialType.System_UInt32 => "UInt32",
            SpecialType.System_Int64 => "Int64",
            SpecialType.System_UInt64 => "UInt64",
            SpecialType.System_Single => "Single",
            SpecialType.System_Double => "Double",
            SpecialType.System_String => "String",
            SpecialType.System_DateTime => "DateTime",
            _ => null,
        };

        /// <summary>True for the leaves <c>BuiltinResolver</c> serializes (including <c>byte[]</c>, written as bin).</summary>
        internal static bool IsBuiltinLeaf(ITypeSymbol type)
        {
            if (IsBoolCharOrBinaryNumber(type.SpecialType))
            {
                return true;
            }

            switch (type.SpecialType)
            {
                case SpecialType.System_Decimal:
                case SpecialType.System_String:
                case SpecialType.System_DateTime:
                    return true;
            }

            if (type is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Byte })
            {
                return true;
            }

            return type is INamedTypeSymbol { TypeArguments.Length: 0 } named && IsBuiltinNonSpecialType(named);
        }

        /// <summary>
        /// The non-special types MessagePack's <c>BuiltinResolver</c> has formatters for, so no formatter is generated
        /// or constructed for them (special types: all primitives, string, decimal, DateTime): System.Guid,
        /// DateTimeOffset, TimeSpan, DateOnly, TimeOnly, Uri, Version; System.Numerics.BigInteger, Complex;
        /// System.Text.StringBuilder; System.Collections.BitArray. Matched by name first: this runs for every type
        /// of every member the formatter parser visits.
        /// </summary>
        private static bool IsBuiltinNonSpecialType(INamedTypeSymbol named)
        {
            switch (named.Name)
            {
                case "Guid":
                case "DateTimeOffset":
                case "TimeSpan":
                case "DateOnly":
                case "TimeOnly":
                case "Uri":
                case "Version":
                    return SymbolFacts.IsNamespace(named.ContainingNamespace, "System", null);
                case "BigInteger":
                case "Complex":
                    return SymbolFacts.IsNamespace(named.ContainingNamespace, "Numerics", "System");
                case "StringBuilder":
                    return SymbolFacts.IsNamespace(named.ContainingNamespace, "Text", "System");
                case "BitArray":
                    return SymbolFacts.IsNamespace(named.ContainingNamespace, "Collections", "System");
                default:
                    return false;
            }
        }

        /// <summary>
        /// Whether MessagePack's untrusted-data security (the generated options' security) has a hash-collision-resistant
        /// comparer for dictionary keys of <paramref name="key"/>: it refuses to read a dictionary keyed by any other type
        /// (<c>MessagePackSecurity.GetHashCollisionResistantEqualityComparer</c>).
        /// </summary>
        internal static bool IsCollisionResistantKey(ITypeSymbol key)
        {
            if (IsBoolCharOrBinaryNumber(key.SpecialType) || key.SpecialType is SpecialType.System_String or SpecialType.System_DateTime)
            {
                return true;
            }

            if (key is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
            {
                return underlying.SpecialType is not (SpecialType.System_Int64 or SpecialType.System_UInt64);
            }

            return key is INamedTypeSymbol { TypeArguments.Length: 0, Name: "Guid" or "DateTimeOffset" } named
                && SymbolFacts.IsNamespace(named.ContainingNamespace, "System", null);
        }

        /// <summary><c>bool</c>, <c>char</c>, the integer types and the binary floating-point types.</summary>
        private static bool IsBoolCharOrBinaryNumber(SpecialType type)
            => type is SpecialType.System_Boolean or SpecialType.System_Char
                or SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_Int16 or SpecialType.System_UInt16
                or SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64
                or SpecialType.System_Single or SpecialType.System_Double;

        /// <summary>The closed built-in formatter for a supported collection definition, or null.</summary>
        internal static string? CollectionFormatter(INamedTypeSymbol named)
        {
            if (!named.IsGenericType || !SymbolFacts.IsNamespace(named.ContainingNamespace, "Generic", "System.Collections"))
            {
                return null;
            }

            return named.MetadataName switch
            {
                "List`1" => "ListFormatter",
                "IList`1" => "InterfaceListFormatter2",
                "IReadOnlyList`1" => "InterfaceReadOnlyListFormatter",
                "IEnumerable`1" => "InterfaceEnumerableFormatter",
                "ICollection`1" => "InterfaceCollectionFormatter2",
                "IReadOnlyCollection`1" => "InterfaceReadOnlyCollectionFormatter",
                "Dictionary`2" => "DictionaryFormatter",
                "IDictionary`2" => "InterfaceDictionaryFormatter",
                "IReadOnlyDictionary`2" => "InterfaceReadOnlyDictionaryFormatter",
                _ => null,
            };
        }

        internal static ITypeSymbol StripAnnotation(ITypeSymbol type)
            => type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.Annotated
                ? type.WithNullableAnnotation(NullableAnnotation.NotAnnotated)
                : type;

        internal static bool IsNullableOfT(ITypeSymbol type, out ITypeSymbol underlying)
        {
            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } named)
            {
                underlying = named.TypeArguments[0];
                return true;
            }

            underlying = type;
            return false;
        }

        internal static string Hex(ulong value) => "0x" + value.ToString("X16", CultureInfo.InvariantCulture) + "UL";

        internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

        /// <summary>Gets whether <paramref name="ctor"/> is a primary constructor declared in source.</summary>
        internal static bool IsPrimaryConstructor(IMethodSymbol ctor)
        {
            foreach (var reference in ctor.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax() is TypeDeclarationSyntax)
                {
                    return true;
                }
            }

            return false;
        }

        internal static void AppendInvariant(StringBuilder builder, int value) => builder.Append(value.ToString(CultureInfo.InvariantCulture));
    }
}
