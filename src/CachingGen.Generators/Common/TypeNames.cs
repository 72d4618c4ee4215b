using System.Text;
using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// Type names for generated code. Convention: every name is fully qualified with <c>global::</c>, except the
    /// C# special types, which use their keywords (<c>string</c>, <c>long</c>, <c>object</c>, <c>int?</c>), as
    /// Roslyn's <see cref="SymbolDisplayFormat.FullyQualifiedFormat"/> does. Keywords cannot be shadowed by user
    /// types, so they are as safe as <c>global::System.String</c> and read better.
    /// </summary>
    internal static class TypeNames
    {
        /// <summary>
        /// <paramref name="name"/> as a C# identifier in generated code: keywords (and <c>await</c>, reserved inside
        /// async code) get a leading <c>@</c>.
        /// </summary>
        public static string Identifier(string name)
            => Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
               || Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetContextualKeywordKind(name) == Microsoft.CodeAnalysis.CSharp.SyntaxKind.AwaitKeyword
                ? "@" + name
                : name;

        /// <summary>Fully qualified, keywords for special types, with nullable reference annotations (<c>string?</c>).</summary>
        public static readonly SymbolDisplayFormat GlobalFormat =
            SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
                SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        /// <summary>Fully qualified, keywords for special types, without nullable reference annotations.</summary>
        public static readonly SymbolDisplayFormat GlobalWithoutNullableFormat = SymbolDisplayFormat.FullyQualifiedFormat;

        /// <summary>
        /// The <c>global::</c> name of <paramref name="type"/> including nullable reference annotations, at the top
        /// level and in type arguments: <c>global::System.Collections.Generic.List&lt;string?&gt;?</c>.
        /// <c>Nullable&lt;T&gt;</c> is a real type and is written <c>T?</c> by both methods.
        /// </summary>
        public static string Global(ITypeSymbol type) => Display(type, GlobalFormat, global: true, nullableModifiers: true);

        /// <summary>
        /// The <c>global::</c> name of <paramref name="type"/> with every nullable reference annotation removed
        /// (top level and type arguments), usable in <c>typeof(...)</c> and as a runtime type identity.
        /// </summary>
        public static string GlobalWithoutNullable(ITypeSymbol type) => Display(type, GlobalWithoutNullableFormat, global: true, nullableModifiers: false);

        /// <summary>
        /// <paramref name="type"/> as the compiler names it in its messages
        /// (<see cref="SymbolDisplayFormat.CSharpErrorMessageFormat"/>: qualified, no <c>global::</c>, with nullable
        /// reference annotations), the form of the stable names and signatures the runtime keys on.
        /// </summary>
        public static string ErrorMessage(ITypeSymbol type) => Display(type, SymbolDisplayFormat.CSharpErrorMessageFormat, global: false, nullableModifiers: true);

        /// <summary>
        /// What <c>type.ToDisplayString(format)</c> returns for <paramref name="format"/> (one of the three formats above,
        /// described by <paramref name="global"/> and <paramref name="nullableModifiers"/>). The parsers name every
        /// type of every signature on every compilation, and Roslyn's display builds a list of parts per call, so the
        /// common shapes (special types, <c>T?</c> of a value type, one-dimensional arrays, named types and their type
        /// arguments) are written directly; everything else (tuples, type parameters, pointers, error types, keyword
        /// names...) goes to Roslyn. TypeNamesTests holds the two to the same output.
        /// </summary>
        private static string Display(ITypeSymbol type, SymbolDisplayFormat format, bool global, bool nullableModifiers)
        {
            // Room for a generic type of two namespaces deep (global::System.Threading.Tasks.ValueTask<global::...>).
            var builder = new StringBuilder(128);
            return TryAppend(builder, type, global, nullableModifiers) ? builder.ToString() : type.ToDisplayString(format);
        }

        private static bool TryAppend(StringBuilder builder, ITypeSymbol type, bool global, bool nullableModifiers)
        {
            switch (type)
            {
                case IArrayTypeSymbol array:
                    if (!array.IsSZArray || array.ElementType is IArrayTypeSymbol || !TryAppend(builder, array.ElementType, global, nullableModifiers))
                    {
                        return false;
                    }

                    builder.Append("[]");
                    break;
                case INamedTypeSymbol named:
                    if (!TryAppendNamed(builder, named, global, nullableModifiers))
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }

            if (nullableModifiers && type.NullableAnnotation == NullableAnnotation.Annotated && !type.IsValueType)
            {
                builder.Append('?');
            }

            return true;
        }

        private static bool TryAppendNamed(StringBuilder builder, INamedTypeSymbol named, bool global, bool nullableModifiers)
        {
            if (named.TypeKind == TypeKind.Error || named.IsTupleType || named.IsAnonymousType || named.IsFileLocal || named.IsUnboundGenericType
                || named.IsNativeIntegerType || named.SpecialType == SpecialType.System_IntPtr || named.SpecialType == SpecialType.System_UIntPtr)
            {
                return false;
            }

            var keyword = SpecialTypeKeyword(named.SpecialType);
            if (keyword is not null)
            {
                builder.Append(keyword);
                return true;
            }

            if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
            {
                if (named.IsDefinition || !TryAppend(builder, named.TypeArguments[0], global, nullableModifiers))
                {
                    return false;
                }

                builder.Append('?');
                return true;
            }

            if (named.ContainingType is { } containing)
            {
                if (!TryAppendNamed(builder, containing, global, nullableModifiers))
                {
                    return false;
                }

                builder.Append('.');
            }
            else
            {
                if (global)
                {
                    builder.Append("global::");
                }

                if (named.ContainingNamespace is { IsGlobalNamespace: false } ns && !TryAppendNamespace(builder, ns))
                {
                    return false;
                }
            }

            if (!IsPlainName(named.Name))
            {
                return false;
            }

            builder.Append(named.Name);
            var arguments = named.TypeArguments;
            if (arguments.Length == 0)
            {
                return true;
            }

            builder.Append('<');
            for (var i = 0; i < arguments.Length; i++)
            {
                if (i > 0)
                {
                    builder.Append(", ");
                }

                if (!TryAppend(builder, arguments[i], global, nullableModifiers))
                {
                    return false;
                }
            }

            builder.Append('>');
            return true;
        }

        /// <summary>Appends "A.B." for namespace A.B.</summary>
        private static bool TryAppendNamespace(StringBuilder builder, INamespaceSymbol ns)
        {
            if (ns.ContainingNamespace is { IsGlobalNamespace: false } parent && !TryAppendNamespace(builder, parent))
            {
                return false;
            }

            if (!IsPlainName(ns.Name))
            {
                return false;
            }

            builder.Append(ns.Name).Append('.');
            return true;
        }

        /// <summary>A name Roslyn writes as it is: an identifier that is no keyword, not even a contextual one.</summary>
        private static bool IsPlainName(string name)
        {
            if (name.Length == 0 || char.IsDigit(name[0]))
            {
                return false;
            }

            foreach (var c in name)
            {
                if (!(char.IsLetterOrDigit(c) || c == '_'))
                {
                    return false;
                }
            }

            // Every keyword starts with a lower-case ASCII letter or '_' (__arglist): PascalCase names need no lookup.
            var first = name[0];
            return !((first >= 'a' && first <= 'z') || first == '_')
                || (Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) == Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
                    && Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetContextualKeywordKind(name) == Microsoft.CodeAnalysis.CSharp.SyntaxKind.None);
        }

        private static string? SpecialTypeKeyword(SpecialType specialType) => specialType switch
        {
            SpecialType.System_Object => "object",
            SpecialType.System_Void => "void",
            SpecialType.System_Boolean => "bool",
            SpecialType.System_Char => "char",
            SpecialType.System_SByte => "sbyte",
            SpecialType.System_Byte => "byte",
            SpecialType.System_Int16 => "short",
            SpecialType.System_UInt16 => "ushort",
            SpecialType.System_Int32 => "int",
            SpecialType.System_UInt32 => "uint",
            SpecialType.System_Int64 => "long",
            SpecialType.System_UInt64 => "ulong",
            SpecialType.System_Decimal => "decimal",
            SpecialType.System_Single => "float",
            SpecialType.System_Double => "double",
            SpecialType.System_String => "string",
            _ => null,
        };

        /// <summary>
        /// A deterministic C# identifier for <paramref name="type"/>, for generated class names and hint names:
        /// namespace and containing types joined with <c>_</c>, CLR names for special types
        /// (<c>System_Int64</c>), type arguments appended with <c>_</c> (<c>Sample_Page_Sample_Preference</c>),
        /// arrays as <c>_Array</c> (<c>_Array2</c> for rank 2), <c>Nullable&lt;T&gt;</c> as <c>System_Nullable_T</c>.
        /// Nullable reference annotations are ignored.
        /// </summary>
        public static string SafeIdentifier(ITypeSymbol type)
        {
            var builder = new StringBuilder();
            AppendSafe(builder, type);
            return builder.ToString();
        }

        private static void AppendSafe(StringBuilder builder, ITypeSymbol type)
        {
            switch (type)
            {
                case IArrayTypeSymbol array:
                    AppendSafe(builder, array.ElementType);
                    builder.Append("_Array");
                    if (array.Rank > 1)
                    {
                        builder.Append(array.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    return;
                case IPointerTypeSymbol pointer:
                    AppendSafe(builder, pointer.PointedAtType);
                    builder.Append("_Pointer");
                    return;
                case ITypeParameterSymbol typeParameter:
                    AppendName(builder, typeParameter.Name);
                    return;
                case INamedTypeSymbol named:
                    AppendNamed(builder, named);
                    return;
                default:
                    AppendName(builder, type.Name.Length == 0 ? "Type" : type.Name);
                    return;
            }
        }

        private static void AppendNamed(StringBuilder builder, INamedTypeSymbol named)
        {
            if (named.ContainingType is not null)
            {
                AppendNamed(builder, named.ContainingType);
                builder.Append('_');
            }
            else if (named.ContainingNamespace is { IsGlobalNamespace: false } ns)
            {
                AppendNamespace(builder, ns);
                builder.Append('_');
            }

            AppendName(builder, named.Name);
            foreach (var argument in named.TypeArguments)
            {
                builder.Append('_');
                AppendSafe(builder, argument);
            }
        }

        private static void AppendNamespace(StringBuilder builder, INamespaceSymbol ns)
        {
            if (ns.ContainingNamespace is { IsGlobalNamespace: false } parent)
            {
                AppendNamespace(builder, parent);
                builder.Append('_');
            }

            AppendName(builder, ns.Name);
        }

        private static void AppendName(StringBuilder builder, string name)
        {
            foreach (var c in name)
            {
                builder.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
            }
        }
    }
}
