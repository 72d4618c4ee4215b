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
        public static string Global(ITypeSymbol type) => type.ToDisplayString(GlobalFormat);

        /// <summary>
        /// The <c>global::</c> name of <paramref name="type"/> with every nullable reference annotation removed
        /// (top level and type arguments), usable in <c>typeof(...)</c> and as a runtime type identity.
        /// </summary>
        public static string GlobalWithoutNullable(ITypeSymbol type) => type.ToDisplayString(GlobalWithoutNullableFormat);

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
