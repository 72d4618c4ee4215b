using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Common
{
    /// <summary>Questions about symbols that both the decorator parser and the formatter parser ask, answered once.</summary>
    internal static class SymbolFacts
    {
        /// <summary>True when <paramref name="ns"/> is <paramref name="parentDotted"/>.<paramref name="name"/> (or the root namespace <paramref name="name"/>).</summary>
        public static bool IsNamespace(INamespaceSymbol? ns, string name, string? parentDotted)
        {
            if (ns is null || ns.Name != name)
            {
                return false;
            }

            var parent = ns.ContainingNamespace;
            if (parentDotted is null)
            {
                return parent is null || parent.IsGlobalNamespace;
            }

            var dot = parentDotted.LastIndexOf('.');
            return dot < 0
                ? IsNamespace(parent, parentDotted, null)
                : IsNamespace(parent, parentDotted.Substring(dot + 1), parentDotted.Substring(0, dot));
        }

        /// <summary>
        /// The name of the outermost namespace that contains <paramref name="ns"/> (or <paramref name="ns"/> itself):
        /// "System" for System.Collections.Generic; null for the global namespace.
        /// </summary>
        public static string? RootNamespaceName(INamespaceSymbol? ns)
        {
            if (ns is null || ns.IsGlobalNamespace)
            {
                return null;
            }

            while (ns.ContainingNamespace is { IsGlobalNamespace: false } parent)
            {
                ns = parent;
            }

            return ns.Name;
        }

        /// <summary>
        /// The first attribute whose class is <paramref name="parentNamespace"/>.<paramref name="namespaceName"/>.<paramref name="name"/>:
        /// not nested in a type and not generic (a lookalike such as a nested or generic class of that name is not it).
        /// </summary>
        public static AttributeData? FindAttribute(ISymbol symbol, string name, string namespaceName, string? parentNamespace)
        {
            foreach (var attribute in symbol.GetAttributes())
            {
                if (attribute.AttributeClass is { ContainingType: null, Arity: 0 } attributeClass
                    && attributeClass.Name == name
                    && IsNamespace(attributeClass.ContainingNamespace, namespaceName, parentNamespace))
                {
                    return attribute;
                }
            }

            return null;
        }

        /// <summary>Whether <paramref name="symbol"/> carries the attribute (see <see cref="FindAttribute"/>).</summary>
        public static bool HasAttribute(ISymbol symbol, string name, string namespaceName, string? parentNamespace)
            => FindAttribute(symbol, name, namespaceName, parentNamespace) is not null;

        /// <summary>Whether <paramref name="type"/> is <c>System.Threading.CancellationToken</c>.</summary>
        public static bool IsCancellationToken(ITypeSymbol type)
            => type is INamedTypeSymbol { Name: "CancellationToken", TypeArguments.Length: 0 } named
               && IsNamespace(named.ContainingNamespace, "Threading", "System");

        /// <summary>
        /// Whether <paramref name="type"/> is <c>Task</c>, <c>ValueTask</c>, <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c>;
        /// <paramref name="result"/> is the <c>T</c> (null for the non-generic forms).
        /// </summary>
        public static bool IsTaskLike(ITypeSymbol type, out bool isValueTask, out ITypeSymbol? result)
        {
            isValueTask = false;
            result = null;
            if (type is INamedTypeSymbol named
                && (named.Name == "Task" || named.Name == "ValueTask")
                && named.TypeArguments.Length <= 1
                && IsNamespace(named.ContainingNamespace, "Tasks", "System.Threading"))
            {
                isValueTask = named.Name == "ValueTask";
                result = named.TypeArguments.Length == 1 ? named.TypeArguments[0] : null;
                return true;
            }

            return false;
        }
    
        /// <summary>
        /// Whether a value of <paramref name="type"/> is a collection whose contents can change in place: arrays and
        /// types implementing <c>ICollection&lt;T&gt;</c>, <c>IList</c> or <c>IDictionary</c>, except the immutable,
        /// frozen and read-only wrapper collections. Read-only interfaces (<c>IReadOnlyList&lt;T&gt;</c>,
        /// <c>IEnumerable&lt;T&gt;</c>) are not.
        /// </summary>
        public static bool IsMutableCollection(ITypeSymbol type)
        {
            if (type is IArrayTypeSymbol)
            {
                return true;
            }

            if (type is not INamedTypeSymbol named || named.SpecialType == SpecialType.System_String || named.TypeKind == TypeKind.Error)
            {
                return false;
            }

            if (IsNamespace(named.ContainingNamespace, "Immutable", "System.Collections")
                || IsNamespace(named.ContainingNamespace, "Frozen", "System.Collections")
                || (IsNamespace(named.ContainingNamespace, "ObjectModel", "System.Collections") && named.Name.StartsWith("ReadOnly", System.StringComparison.Ordinal)))
            {
                return false;
            }

            if (IsMutableCollectionInterface(named))
            {
                return true;
            }

            foreach (var implemented in named.AllInterfaces)
            {
                if (IsMutableCollectionInterface(implemented))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsMutableCollectionInterface(INamedTypeSymbol type)
        {
            if (type.TypeKind != TypeKind.Interface)
            {
                return false;
            }

            switch (type.Name)
            {
                case "ICollection" when type.TypeArguments.Length == 1:
                case "IList" when type.TypeArguments.Length == 1:
                case "ISet" when type.TypeArguments.Length == 1:
                case "IDictionary" when type.TypeArguments.Length == 2:
                    return IsNamespace(type.ContainingNamespace, "Generic", "System.Collections");
                case "IList" when type.TypeArguments.Length == 0:
                case "IDictionary" when type.TypeArguments.Length == 0:
                    return IsNamespace(type.ContainingNamespace, "Collections", "System");
                default:
                    return false;
            }
        }
    }
}
