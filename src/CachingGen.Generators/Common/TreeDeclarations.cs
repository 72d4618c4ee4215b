using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// What one syntax tree declares, read from its syntax alone and remembered for as long as the tree object lives
    /// (an edit replaces one tree; every other tree of the new compilation is the same object):
    /// <list type="bullet">
    /// <item><see cref="Fingerprint"/>: every token and node kind outside member bodies, every directive and the parse
    /// options. Typing inside a body leaves it unchanged; <see cref="DeclarationSnapshot"/> compares it.</item>
    /// <item><see cref="Scope"/> and <see cref="Global"/>: what decides how names bind, in this tree and in every tree.</item>
    /// <item><see cref="Types"/>: each top-level type declaration's own fingerprint, the names it declares and the
    /// identifiers its declarations mention, from which <see cref="DeclarationSnapshot"/> works out the declarations
    /// a repository's parse can read.</item>
    /// </list>
    /// </summary>
    /// <remarks>
    /// Comments, whitespace and the contents of method, accessor, operator and local function bodies (and of
    /// top-level statements) are left out: no symbol the parsers read depends on them. The one thing a body could add
    /// to a declaration is a backing field through C#'s <c>field</c> keyword, and the parsers skip implicitly declared
    /// fields.
    /// </remarks>
    internal sealed class TreeDeclarations
    {
        private static readonly ConditionalWeakTable<SyntaxTree, TreeDeclarations> Cache = new ConditionalWeakTable<SyntaxTree, TreeDeclarations>();

        private TreeDeclarations(ulong fingerprint, ulong outline, ulong scope, ulong global, ImmutableArray<TypeDeclarationInfo> types,
            ImmutableArray<string> namespaceNames, ImmutableArray<string> usingIdentifiers, ImmutableArray<string> globalIdentifiers,
            ImmutableArray<RepositoryCandidate> candidates, bool hasTopLevelStatements)
        {
            HasTopLevelStatements = hasTopLevelStatements;
            Fingerprint = fingerprint;
            Outline = outline;
            Scope = scope;
            Global = global;
            NamespaceNames = namespaceNames;
            Types = types;
            UsingIdentifiers = usingIdentifiers;
            GlobalIdentifiers = globalIdentifiers;
            Candidates = candidates;
        }

        /// <summary>Every token and node kind outside member bodies, every directive, the parse options.</summary>
        public ulong Fingerprint { get; }

        /// <summary>Everything of the tree outside the bodies of its type declarations (with their headers).</summary>
        public ulong Outline { get; }

        /// <summary>
        /// What decides how a name in this tree's declarations binds, besides the declarations of that name: using
        /// directives and aliases, extern aliases, namespaces, directives, parse options.
        /// </summary>
        public ulong Scope { get; }

        /// <summary>
        /// What can change any tree's symbols without being named there: global usings, assembly and module attributes,
        /// and the types declared in <c>System</c> namespaces (a polyfill the compiler looks up by its metadata name).
        /// <see cref="DeclarationHash.Start"/> when the tree has none.
        /// </summary>
        public ulong Global { get; }

        /// <summary>Whether the tree has top-level statements (which declare a <c>Program</c> class).</summary>
        public bool HasTopLevelStatements { get; }

        /// <summary>The full names of the namespaces the tree declares (<c>A.B</c> for <c>namespace A { namespace B { } }</c>).</summary>
        public ImmutableArray<string> NamespaceNames { get; }

        /// <summary>The top-level type declarations (in a namespace or the compilation unit), in document order.</summary>
        public ImmutableArray<TypeDeclarationInfo> Types { get; }

        /// <summary>The identifiers of every using directive of the tree (a <c>using static</c> brings a type's members into scope).</summary>
        public ImmutableArray<string> UsingIdentifiers { get; }

        /// <summary>
        /// The identifiers of the tree's <c>global using</c> directives, which are in scope in every tree, and of its
        /// assembly and module attributes, which decide the assembly's identity (and so which references resolve to it).
        /// </summary>
        public ImmutableArray<string> GlobalIdentifiers { get; }

        /// <summary>The interface declarations with attributes, in document order: what may be a <c>[CachedRepository]</c>.</summary>
        public ImmutableArray<RepositoryCandidate> Candidates { get; }

        /// <summary>The declarations of <paramref name="tree"/>.</summary>
        public static TreeDeclarations Of(SyntaxTree tree, CancellationToken cancellationToken)
            => WeakMemo.GetOrCompute(Cache, tree, Compute, cancellationToken);

        /// <summary>Reads the declarations without the per-tree memory (for tests).</summary>
        internal static TreeDeclarations Compute(SyntaxTree tree, CancellationToken cancellationToken)
        {
            var root = tree.GetRoot(cancellationToken);
            var options = DeclarationHash.Start;
            if (tree.Options is CSharpParseOptions parseOptions)
            {
                options = DeclarationHash.Add(options, (int)parseOptions.LanguageVersion);
                options = DeclarationHash.Add(options, (int)parseOptions.DocumentationMode);
                options = DeclarationHash.Add(options, (int)parseOptions.Kind);
                foreach (var feature in parseOptions.Features.OrderBy(static f => f.Key, StringComparer.Ordinal))
                {
                    options = DeclarationHash.Add(options, feature.Key);
                    options = DeclarationHash.Add(options, feature.Value);
                }
            }

            // Every directive of the tree, in order, starts the outline and each type's fingerprint: a directive anywhere
            // (a #nullable inside a body too) can change the declarations after it. Each type also hashes where they sit.
            var directives = options;
            if (root is CSharpSyntaxNode csharpRoot && csharpRoot.ContainsDirectives)
            {
                for (var directive = csharpRoot.GetFirstDirective(); directive is not null; directive = directive.GetNextDirective())
                {
                    directives = DeclarationHash.AddDirective(directives, directive.ParentTrivia);
                }
            }

            var reader = new Reader(directives, cancellationToken);
            reader.ReadOutline(root);

            // The outline holds everything outside the type declarations and each type's fingerprint everything inside
            // it, so together they are the whole tree outside bodies.
            var fingerprint = reader.Outline;
            foreach (var type in reader.Types)
            {
                fingerprint = DeclarationHash.Add(fingerprint, type.Fingerprint);
            }

            return new TreeDeclarations(
                fingerprint,
                reader.Outline,
                reader.Scope,
                reader.Global,
                reader.Types.ToImmutable(),
                ImmutableArray.CreateRange(reader.NamespaceNames),
                ImmutableArray.CreateRange(reader.UsingIdentifiers),
                ImmutableArray.CreateRange(reader.GlobalIdentifiers),
                reader.Candidates.ToImmutable(),
                reader.HasTopLevelStatements);
        }

        /// <summary>Walks the namespace and type structure of a tree (never into members).</summary>
        private sealed class Reader
        {
            private readonly ulong _directives;
            private readonly CancellationToken _cancellationToken;

            public Reader(ulong directives, CancellationToken cancellationToken)
            {
                _directives = directives;
                _cancellationToken = cancellationToken;
                Outline = directives;
                Scope = directives;
            }

            public ulong Outline { get; private set; }

            public ulong Scope { get; private set; }

            public ulong Global { get; private set; } = DeclarationHash.Start;

            public HashSet<string> NamespaceNames { get; } = new HashSet<string>();

            public bool HasTopLevelStatements { get; private set; }

            public ImmutableArray<TypeDeclarationInfo>.Builder Types { get; } = ImmutableArray.CreateBuilder<TypeDeclarationInfo>();

            public HashSet<string> UsingIdentifiers { get; } = new HashSet<string>();

            public HashSet<string> GlobalIdentifiers { get; } = new HashSet<string>();

            public ImmutableArray<RepositoryCandidate>.Builder Candidates { get; } = ImmutableArray.CreateBuilder<RepositoryCandidate>();

            public void ReadOutline(SyntaxNode root)
            {
                if (root is not CompilationUnitSyntax unit)
                {
                    Outline = DeclarationHash.Of(root, Outline, null, _cancellationToken);
                    Scope = Outline;
                    Global = DeclarationHash.Add(Global, Outline);
                    return;
                }

                ReadScope(unit.Externs, unit.Usings, unit.Members, string.Empty);
                foreach (var attributes in unit.AttributeLists)
                {
                    Outline = DeclarationHash.Of(attributes, Outline, GlobalIdentifiers, _cancellationToken);
                    Global = DeclarationHash.Of(attributes, Global, null, _cancellationToken);
                }
            }

            /// <summary>Adds <paramref name="node"/> (outside bodies) to both the outline and the scope.</summary>
            private void AddToScope(SyntaxNode node, HashSet<string>? identifiers)
            {
                Outline = DeclarationHash.Of(node, Outline, identifiers, _cancellationToken);
                Scope = DeclarationHash.Of(node, Scope, null, _cancellationToken);
            }

            private void AddToScopeOnly(int marker)
            {
                Scope = DeclarationHash.Add(Scope, marker);
            }

            private void AddToScope(int marker)
            {
                Outline = DeclarationHash.Add(Outline, marker);
                Scope = DeclarationHash.Add(Scope, marker);
            }

            private void ReadScope(SyntaxList<ExternAliasDirectiveSyntax> externs, SyntaxList<UsingDirectiveSyntax> usings, SyntaxList<MemberDeclarationSyntax> members, string namespaceName)
            {
                foreach (var externAlias in externs)
                {
                    AddToScope(externAlias, null);
                }

                foreach (var usingDirective in usings)
                {
                    var isGlobal = usingDirective.GlobalKeyword.IsKind(SyntaxKind.GlobalKeyword);
                    var identifiers = isGlobal ? new HashSet<string>() : UsingIdentifiers;
                    AddToScope(usingDirective, identifiers);
                    if (isGlobal)
                    {
                        Global = DeclarationHash.Of(usingDirective, Global, null, _cancellationToken);
                        GlobalIdentifiers.UnionWith(identifiers);
                        UsingIdentifiers.UnionWith(identifiers);
                    }
                }

                foreach (var member in members)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                    switch (member)
                    {
                        case BaseNamespaceDeclarationSyntax ns:
                            var fullName = namespaceName.Length == 0 ? ns.Name.ToString() : namespaceName + "." + ns.Name;
                            NamespaceNames.Add(fullName);
                            AddToScope(ns.RawKind);
                            AddToScope(ns.Name, null);
                            ReadScope(ns.Externs, ns.Usings, ns.Members, fullName);
                            AddToScope(DeclarationHash.EndMarker);
                            break;
                        case BaseTypeDeclarationSyntax or DelegateDeclarationSyntax:
                            ReadType(member, namespaceName);
                            break;
                        case GlobalStatementSyntax:
                            // Top-level statements declare nothing visible but the entry point's Program class.
                            AddToScope(DeclarationHash.BodyMarker);
                            HasTopLevelStatements = true;
                            break;
                        default:
                            // Not valid at this level; counted whole, so that it can never hide a change.
                            AddToScope(member, null);
                            break;
                    }
                }
            }

            private void ReadType(MemberDeclarationSyntax type, string namespaceName)
            {
                var index = Types.Count;
                var names = new HashSet<string>();
                AddHeaders(type, names, index);

                // Where the type sits (which namespace), which its own fingerprint does not say.
                AddToScopeOnly(type.RawKind);
                foreach (var name in names)
                {
                    Scope = DeclarationHash.Add(Scope, name);
                }

                var identifiers = new HashSet<string>();
                var fingerprint = DeclarationHash.Of(type, _directives, identifiers, _cancellationToken);
                if (namespaceName == "System" || namespaceName.StartsWith("System.", StringComparison.Ordinal))
                {
                    // The compiler looks some System types up by metadata name (IsExternalInit, ValueTuple...): no text names them.
                    Global = DeclarationHash.Add(Global, namespaceName);
                    Global = DeclarationHash.Add(Global, fingerprint);
                }

                Types.Add(new TypeDeclarationInfo(fingerprint, ImmutableArray.CreateRange(names), ImmutableArray.CreateRange(identifiers)));
            }

            /// <summary>Hashes the header of <paramref name="type"/> and of every type nested in it into the outline.</summary>
            private void AddHeaders(MemberDeclarationSyntax type, HashSet<string> names, int typeIndex)
            {
                Outline = DeclarationHash.Add(Outline, type.RawKind);
                if (type is DelegateDeclarationSyntax)
                {
                    Outline = DeclarationHash.Of(type, Outline, null, _cancellationToken);
                    names.Add(((DelegateDeclarationSyntax)type).Identifier.ValueText);
                    return;
                }

                var declaration = (BaseTypeDeclarationSyntax)type;
                names.Add(declaration.Identifier.ValueText);
                foreach (var attributes in declaration.AttributeLists)
                {
                    Outline = DeclarationHash.Of(attributes, Outline, null, _cancellationToken);
                }

                foreach (var modifier in declaration.Modifiers)
                {
                    Outline = DeclarationHash.Add(Outline, modifier.RawKind);
                }

                Outline = DeclarationHash.Add(Outline, declaration.Identifier.ValueText);
                if (declaration is TypeDeclarationSyntax { TypeParameterList: { } typeParameters })
                {
                    Outline = DeclarationHash.Of(typeParameters, Outline, null, _cancellationToken);
                }

                if (declaration is InterfaceDeclarationSyntax { AttributeLists.Count: > 0 })
                {
                    Candidates.Add(new RepositoryCandidate(typeIndex, declaration.Span));
                }

                if (declaration is TypeDeclarationSyntax withMembers)
                {
                    foreach (var member in withMembers.Members)
                    {
                        if (member is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax)
                        {
                            AddHeaders(member, names, typeIndex);
                        }
                    }
                }

                Outline = DeclarationHash.Add(Outline, DeclarationHash.EndMarker);
            }
        }
    }

    /// <summary>A top-level type declaration, as <see cref="TreeDeclarations"/> reads it.</summary>
    internal sealed class TypeDeclarationInfo
    {
        public TypeDeclarationInfo(ulong fingerprint, ImmutableArray<string> declaredNames, ImmutableArray<string> identifiers)
        {
            Fingerprint = fingerprint;
            DeclaredNames = declaredNames;
            Identifiers = identifiers;
        }

        /// <summary>Every token and node kind of the declaration outside member bodies, and the tree's directives.</summary>
        public ulong Fingerprint { get; }

        /// <summary>The declaration's name and the names of the types nested in it.</summary>
        public ImmutableArray<string> DeclaredNames { get; }

        /// <summary>Every identifier its declarations mention (attributes, base types, member signatures, initializers,
        /// default values): the names a parse of it may resolve.</summary>
        public ImmutableArray<string> Identifiers { get; }
    }

    /// <summary>An interface declaration with attributes, inside the top-level type <paramref name="TypeIndex"/> of its tree.</summary>
    internal readonly record struct RepositoryCandidate(int TypeIndex, TextSpan Span);

    /// <summary>The 64-bit FNV-1a hashing of declarations that <see cref="TreeDeclarations"/> uses.</summary>
    internal static class DeclarationHash
    {
        /// <summary>The hash of nothing.</summary>
        public const ulong Start = 14695981039346656037UL;

        /// <summary>Stands for a body (no syntax kind has this value).</summary>
        public const int BodyMarker = -1;

        /// <summary>Closes a nested scope (no syntax kind has this value).</summary>
        public const int EndMarker = -2;

        private const ulong Prime = 1099511628211UL;

        /// <summary>
        /// Adds <paramref name="node"/> and everything in it outside member bodies to <paramref name="hash"/>; collects
        /// the identifiers on the way when <paramref name="identifiers"/> is given.
        /// </summary>
        public static ulong Of(SyntaxNode node, ulong hash, HashSet<string>? identifiers, CancellationToken cancellationToken)
        {
            hash = Add(hash, node.RawKind);
            var visited = 0;
            SyntaxNode? memberWithExpressionBody = null;
            foreach (var item in node.DescendantNodesAndTokens(static child => !IsBody(child)))
            {
                if ((++visited & 1023) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (item.AsNode() is { } child)
                {
                    // One marker for any body, so that turning "=> x;" into "{ return x; }" is an edit inside a body too.
                    var isBody = IsBody(child);
                    hash = Add(hash, isBody ? BodyMarker : child.RawKind);
                    memberWithExpressionBody = isBody && child is ArrowExpressionClauseSyntax ? child.Parent : null;
                    if (isBody && child.ContainsDirectives)
                    {
                        // A directive inside a body (a #nullable) still changes the declarations after it.
                        foreach (var trivia in child.DescendantTrivia())
                        {
                            hash = AddDirective(hash, trivia);
                        }
                    }

                    continue;
                }

                var token = item.AsToken();
                if (token.ContainsDirectives)
                {
                    // Where a directive sits among the declarations matters (what a #nullable covers), not only that it is there.
                    foreach (var trivia in token.LeadingTrivia)
                    {
                        hash = AddDirective(hash, trivia);
                    }
                }

                if (memberWithExpressionBody is not null && token.IsKind(SyntaxKind.SemicolonToken) && token.Parent == memberWithExpressionBody)
                {
                    memberWithExpressionBody = null;
                    continue;
                }

                memberWithExpressionBody = null;
                hash = Add(hash, token.RawKind);
                hash = Add(hash, token.Text);
                if (identifiers is not null && token.IsKind(SyntaxKind.IdentifierToken))
                {
                    identifiers.Add(token.ValueText);
                }
            }

            return hash;
        }

        /// <summary>Adds <paramref name="trivia"/> when it is a directive.</summary>
        public static ulong AddDirective(ulong hash, SyntaxTrivia trivia)
        {
            if (!trivia.IsDirective)
            {
                return hash;
            }

            hash = Add(hash, trivia.RawKind);
            return Add(hash, trivia.ToString());
        }

        /// <summary>Adds <paramref name="value"/>.</summary>
        public static ulong Add(ulong hash, int value)
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

        /// <summary>Adds <paramref name="value"/>.</summary>
        public static ulong Add(ulong hash, ulong value)
        {
            hash = Add(hash, (int)value);
            return Add(hash, (int)(value >> 32));
        }

        /// <summary>Adds <paramref name="text"/>, its length first, so that no two token sequences hash the same characters in the same order.</summary>
        public static ulong Add(ulong hash, string text)
        {
            unchecked
            {
                hash = Add(hash, text.Length);
                foreach (var c in text)
                {
                    hash = (hash ^ (byte)c) * Prime;
                    hash = (hash ^ (byte)(c >> 8)) * Prime;
                }

                return hash;
            }
        }

        /// <summary>A member's body or a top-level statement: its contents declare nothing the parsers read.</summary>
        private static bool IsBody(SyntaxNode node) => node switch
        {
            BlockSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax } => true,
            ArrowExpressionClauseSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or BasePropertyDeclarationSyntax or LocalFunctionStatementSyntax } => true,
            GlobalStatementSyntax => true,
            _ => false,
        };
    }
}
