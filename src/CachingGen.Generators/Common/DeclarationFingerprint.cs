using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// A 64-bit fingerprint of what a syntax tree declares: every token and node kind outside member bodies, every
    /// preprocessor directive (a <c>#nullable</c> inside a body still changes the declarations after it) and the
    /// tree's parse options. Comments, whitespace and the contents of method, accessor, operator and local function
    /// bodies (and of top-level statements) are left out: no symbol the generators read depends on them, so typing
    /// inside a body leaves the fingerprint, and with it every generator step, unchanged.
    /// </summary>
    /// <remarks>
    /// The only thing a body could add to a declaration is a backing field through C#'s <c>field</c> keyword, and
    /// the parsers skip implicitly declared fields. Computed once per tree object and remembered for as long as the tree
    /// lives: an edit replaces one tree, and every other tree of the new compilation is the same object.
    /// </remarks>
    internal static class DeclarationFingerprint
    {
        private const ulong OffsetBasis = 14695981039346656037UL;
        private const ulong Prime = 1099511628211UL;

        /// <summary>Stands for a body in the hash (no syntax kind has this value).</summary>
        private const int BodyMarker = -1;

        private static readonly ConditionalWeakTable<SyntaxTree, Fingerprint> Cache = new ConditionalWeakTable<SyntaxTree, Fingerprint>();

        /// <summary>The fingerprint of <paramref name="tree"/>.</summary>
        public static ulong Of(SyntaxTree tree, CancellationToken cancellationToken)
        {
            if (Cache.TryGetValue(tree, out var known))
            {
                return known.Value;
            }

            var computed = new Fingerprint(Compute(tree, cancellationToken));
            return Cache.GetValue(tree, _ => computed).Value;
        }

        /// <summary>Computes the fingerprint without the per-tree memory (for tests).</summary>
        internal static ulong Compute(SyntaxTree tree, CancellationToken cancellationToken)
        {
            var hash = OffsetBasis;
            if (tree.Options is CSharpParseOptions options)
            {
                hash = Add(hash, (int)options.LanguageVersion);
                hash = Add(hash, (int)options.DocumentationMode);
                hash = Add(hash, (int)options.Kind);
            }

            var root = tree.GetRoot(cancellationToken);
            var visited = 0;
            SyntaxNode? memberWithExpressionBody = null;
            foreach (var item in root.DescendantNodesAndTokens(static node => !IsBody(node)))
            {
                if ((++visited & 1023) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (item.AsNode() is { } node)
                {
                    // One marker for any body, so that turning "=> x;" into "{ return x; }" is an edit inside a body too.
                    var isBody = IsBody(node);
                    hash = Add(hash, isBody ? BodyMarker : node.RawKind);
                    memberWithExpressionBody = isBody && node is ArrowExpressionClauseSyntax ? node.Parent : null;
                    continue;
                }

                var token = item.AsToken();
                if (memberWithExpressionBody is not null && token.IsKind(SyntaxKind.SemicolonToken) && token.Parent == memberWithExpressionBody)
                {
                    memberWithExpressionBody = null;
                    continue;
                }

                memberWithExpressionBody = null;
                hash = Add(hash, token.RawKind);
                hash = Add(hash, token.Text);
            }

            if (root is CSharpSyntaxNode csharpRoot && csharpRoot.ContainsDirectives)
            {
                for (var directive = csharpRoot.GetFirstDirective(); directive is not null; directive = directive.GetNextDirective())
                {
                    hash = Add(hash, directive.RawKind);
                    hash = Add(hash, directive.ToString());
                }
            }

            return hash;
        }

        /// <summary>A member's body or a top-level statement: its contents declare nothing the parsers read.</summary>
        private static bool IsBody(SyntaxNode node) => node switch
        {
            BlockSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax } => true,
            ArrowExpressionClauseSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or BasePropertyDeclarationSyntax or LocalFunctionStatementSyntax } => true,
            GlobalStatementSyntax => true,
            _ => false,
        };

        private static ulong Add(ulong hash, int value)
        {
            unchecked
            {
                for (var shift = 0; shift < 32; shift += 8)
                {
                    hash = (hash ^ (byte)(value >> shift)) * Prime;
                }

                return hash;
            }
        }

        private static ulong Add(ulong hash, string text)
        {
            unchecked
            {
                // The length first, so that no two token sequences hash the same characters in the same order.
                hash = Add(hash, text.Length);
                foreach (var c in text)
                {
                    hash = (hash ^ (byte)c) * Prime;
                    hash = (hash ^ (byte)(c >> 8)) * Prime;
                }

                return hash;
            }
        }

        /// <summary>A boxed fingerprint: <see cref="ConditionalWeakTable{TKey, TValue}"/> holds reference types only.</summary>
        private sealed class Fingerprint
        {
            public Fingerprint(ulong value)
            {
                Value = value;
            }

            public ulong Value { get; }
        }
    }
}
