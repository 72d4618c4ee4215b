using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// What a compilation declares, as far as the generators can tell: the declaration fingerprint of every syntax
    /// tree, the metadata references (by identity), the compilation options and the assembly name. Two snapshots are
    /// equal when all of these are, and then every symbol the parsers read is the same, so every step after the
    /// snapshot stays cached.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Why the generators start here rather than at <c>ForAttributeWithMetadataName</c>: Roslyn combines that
    /// provider's matches with each new compilation and runs the transform again for every annotated interface of the
    /// project after any edit, and each transform binds its symbols afresh. Typing inside a method body then cost
    /// 70% of a cold run on a 500-interface project. Behind the snapshot, such an edit costs the fingerprint of the
    /// edited tree; an edit of any declaration re-parses every repository, as before.
    /// </para>
    /// <para>
    /// The compilation is held weakly and is not part of equality. An incremental step keeps the earlier of two
    /// equal values, so a cached snapshot refers to an older compilation; holding it strongly would keep that
    /// compilation alive in the driver. Steps after the snapshot run only when the snapshot changed, and a changed
    /// snapshot was taken from the compilation being generated for, which the driver holds for the whole run.
    /// The steps that read it must therefore take no other input.
    /// </para>
    /// </remarks>
    internal sealed class DeclarationSnapshot : IEquatable<DeclarationSnapshot>
    {
        private readonly WeakReference<Compilation> _compilation;
        private readonly ulong[] _trees;
        private readonly MetadataReference[] _references;
        private readonly CompilationOptions _options;
        private readonly string? _assemblyName;

        private DeclarationSnapshot(Compilation compilation, ulong[] trees, MetadataReference[] references)
        {
            _compilation = new WeakReference<Compilation>(compilation);
            _trees = trees;
            _references = references;
            _options = compilation.Options;
            _assemblyName = compilation.AssemblyName;
        }

        /// <summary>Takes the snapshot of <paramref name="compilation"/>.</summary>
        public static DeclarationSnapshot Take(Compilation compilation, CancellationToken cancellationToken)
        {
            var trees = new List<ulong>();
            foreach (var tree in compilation.SyntaxTrees)
            {
                cancellationToken.ThrowIfCancellationRequested();
                trees.Add(DeclarationFingerprint.Of(tree, cancellationToken));
            }

            return new DeclarationSnapshot(compilation, trees.ToArray(), new List<MetadataReference>(compilation.References).ToArray());
        }

        /// <summary>
        /// The compilation the snapshot was taken from. Read it only in a step whose one input is this snapshot (see
        /// the remarks on the type).
        /// </summary>
        public Compilation Compilation => _compilation.TryGetTarget(out var compilation)
            ? compilation
            : throw new InvalidOperationException("CachingGen: a generator step read the compilation of a cached declaration snapshot. Only steps whose one input is the snapshot may read it.");

        /// <summary>
        /// Every interface with <c>[CachedRepository]</c>, each once, in the order of the syntax trees and of the
        /// declarations within each tree (the order <c>ForAttributeWithMetadataName</c> reports them).
        /// </summary>
        public ImmutableArray<INamedTypeSymbol> FindCachedRepositories(CancellationToken cancellationToken)
        {
            var compilation = Compilation;
            var repositories = ImmutableArray.CreateBuilder<INamedTypeSymbol>();
            var seen = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
            foreach (var tree in compilation.SyntaxTrees)
            {
                SemanticModel? semanticModel = null;
                var root = tree.GetRoot(cancellationToken);
                foreach (var node in root.DescendantNodes(static node => node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax))
                {
                    if (node is not InterfaceDeclarationSyntax { AttributeLists.Count: > 0 } declaration)
                    {
                        continue;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    semanticModel ??= compilation.GetSemanticModel(tree);
                    if (semanticModel.GetDeclaredSymbol(declaration, cancellationToken) is { } repository
                        && RepositoryParser.FindAttribute(repository, KnownNames.CachedRepository) is not null
                        && seen.Add(repository))
                    {
                        repositories.Add(repository);
                    }
                }
            }

            return repositories.ToImmutable();
        }

        /// <inheritdoc/>
        public bool Equals(DeclarationSnapshot? other)
        {
            if (other is null)
            {
                return false;
            }

            if (ReferenceEquals(this, other))
            {
                return true;
            }

            if (_trees.Length != other._trees.Length || _references.Length != other._references.Length
                || !string.Equals(_assemblyName, other._assemblyName, StringComparison.Ordinal) || !_options.Equals(other._options))
            {
                return false;
            }

            for (var i = 0; i < _trees.Length; i++)
            {
                if (_trees[i] != other._trees[i])
                {
                    return false;
                }
            }

            // By identity: a reference that is not the same object may hold other metadata under the same path.
            for (var i = 0; i < _references.Length; i++)
            {
                if (!ReferenceEquals(_references[i], other._references[i]))
                {
                    return false;
                }
            }

            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as DeclarationSnapshot);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            var hash = _trees.Length;
            foreach (var tree in _trees)
            {
                hash = unchecked((hash * 31) + tree.GetHashCode());
            }

            return hash;
        }
    }
}
