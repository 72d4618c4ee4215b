using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// What a compilation declares, as far as the generators can tell: the <see cref="TreeDeclarations.Fingerprint"/>
    /// of every syntax tree, and the <see cref="DeclarationOutline"/> (the trees' outlines, the metadata references
    /// by identity, the options, the assembly name). Two snapshots are equal when all of these are; then every symbol
    /// the parsers read is the same and no step after the snapshot runs.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Why the generators start here rather than at <c>ForAttributeWithMetadataName</c>: Roslyn combines that
    /// provider's matches with each new compilation and runs the transform again for every annotated interface of the
    /// project after any edit, and each transform binds its symbols afresh: 71% of a cold run on a 500-interface
    /// project. Behind the snapshot, an edit inside a body costs the fingerprint of the edited tree, and an edit of a
    /// declaration re-parses only the repositories whose <see cref="RepositoryGate"/> changed.
    /// </para>
    /// <para>
    /// The compilation is held weakly and is not part of equality. An incremental step keeps the earlier of two equal
    /// values, so a cached snapshot or gate refers to an older compilation; holding it strongly would keep that
    /// compilation alive in the driver. A step after a snapshot or gate runs only when that value changed, and a
    /// changed value was made from the compilation being generated for, which the driver holds for the whole run.
    /// The steps that read it must therefore take no other input.
    /// </para>
    /// </remarks>
    internal sealed class DeclarationSnapshot : IEquatable<DeclarationSnapshot>
    {
        private static readonly ConditionalWeakTable<Compilation, DeclarationSnapshot> Snapshots = new ConditionalWeakTable<Compilation, DeclarationSnapshot>();

        private readonly WeakReference<Compilation> _compilation;
        private readonly TreeDeclarations[] _trees;
        private readonly DeclarationOutline _outline;
        private ImmutableArray<RepositoryGate> _gates;

        private DeclarationSnapshot(Compilation compilation, TreeDeclarations[] trees, DeclarationOutline outline)
        {
            _compilation = new WeakReference<Compilation>(compilation);
            _trees = trees;
            _outline = outline;
        }

        /// <summary>The snapshot of <paramref name="compilation"/>: taken once, and shared by both generators.</summary>
        public static DeclarationSnapshot Take(Compilation compilation, CancellationToken cancellationToken)
            => WeakMemo.GetOrCompute(Snapshots, compilation, TakeNew, cancellationToken);

        private static DeclarationSnapshot TakeNew(Compilation compilation, CancellationToken cancellationToken)
        {
            var syntaxTrees = compilation.SyntaxTrees as IReadOnlyList<SyntaxTree> ?? compilation.SyntaxTrees.ToList();
            var trees = new TreeDeclarations[syntaxTrees.Count];
            var outlines = new ulong[trees.Length];
            for (var i = 0; i < trees.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                trees[i] = TreeDeclarations.Of(syntaxTrees[i], cancellationToken);
                outlines[i] = trees[i].Outline;
            }

            var outline = new DeclarationOutline(outlines, compilation.References.ToArray(), compilation.Options, compilation.AssemblyName);
            return new DeclarationSnapshot(compilation, trees, outline);
        }

        /// <summary>
        /// One gate per interface declaration with attributes (what may be a <c>[CachedRepository]</c>), in the order of
        /// the syntax trees and of the declarations within each tree. A gate is equal to the one before an edit when
        /// nothing that the parse of its interface can read has changed: no outline, reference or option, and no
        /// top-level type declaration that the interface's declaration reaches by the names it mentions.
        /// </summary>
        /// <remarks>
        /// The declarations a parse can read are found from syntax alone, generously: starting at the interface's
        /// top-level type, every identifier its declarations mention (and the same name with "Attribute") leads to every
        /// top-level type that declares a type of that name anywhere, and from there on; every using directive of a
        /// reached tree and every global using adds its identifiers too (a <c>using static</c> brings members into
        /// scope by no type name), and so does every assembly or module attribute (a constant there can change the
        /// assembly's identity). Name binding itself depends only on the outlines, which every gate compares whole.
        /// When a reference was built against this assembly, its members name this assembly's source types in
        /// metadata, where no name can be followed: then every gate reaches every type.
        /// </remarks>
        public ImmutableArray<RepositoryGate> Gates(CancellationToken cancellationToken)
        {
            // Both generators ask; a race computes equal gates twice, and an ImmutableArray is written whole.
            var gates = _gates;
            if (!gates.IsDefault)
            {
                return gates;
            }

            try
            {
                return _gates = FindGates(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
#pragma warning disable CA1031 // A step after the snapshot must not fail: a later run would find the snapshot cached and this step without a result, and would have to read the snapshot's collected compilation.
            catch (Exception)
#pragma warning restore CA1031
            {
                // No output until the next declaration edit, then a fresh try (nothing is remembered): a bug here
                // costs the generated code, never a stale or crashing driver.
                return ImmutableArray<RepositoryGate>.Empty;
            }
        }

        private ImmutableArray<RepositoryGate> FindGates(CancellationToken cancellationToken)
        {
            var declaring = new Dictionary<string, List<long>>(StringComparer.Ordinal);
            var globalIdentifiers = new HashSet<string>(StringComparer.Ordinal);
            for (var tree = 0; tree < _trees.Length; tree++)
            {
                globalIdentifiers.UnionWith(_trees[tree].GlobalIdentifiers);
                var types = _trees[tree].Types;
                for (var type = 0; type < types.Length; type++)
                {
                    foreach (var name in types[type].DeclaredNames)
                    {
                        Declares(declaring, name, Pack(tree, type));

                        // [Foo] names FooAttribute.
                        if (name.EndsWith("Attribute", StringComparison.Ordinal) && name.Length > "Attribute".Length)
                        {
                            Declares(declaring, name.Substring(0, name.Length - "Attribute".Length), Pack(tree, type));
                        }
                    }
                }
            }

            // A referenced assembly built against this one leads back to its source types through its own members,
            // which name them in metadata, not in any text a reach can follow: then every repository reaches everything.
            var everything = ReferencesThisAssembly(cancellationToken) ? AllTypes() : (ulong?)null;
            var gates = ImmutableArray.CreateBuilder<RepositoryGate>();
            var reach = new Reach(this, declaring, globalIdentifiers);
            for (var tree = 0; tree < _trees.Length; tree++)
            {
                var candidates = _trees[tree].Candidates;
                for (var ordinal = 0; ordinal < candidates.Length; ordinal++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var fingerprint = everything ?? reach.Fingerprint(Pack(tree, candidates[ordinal].TypeIndex));
                    gates.Add(new RepositoryGate(_compilation, _outline, tree, ordinal, candidates[ordinal].Span, fingerprint));
                }
            }

            return gates.ToImmutable();
        }

        private bool ReferencesThisAssembly(CancellationToken cancellationToken)
        {
            if (!_compilation.TryGetTarget(out var compilation))
            {
                // Unreachable (the gates are found in the run that took the snapshot); reaching everything is always safe.
                return true;
            }

            foreach (var reference in compilation.References)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (compilation.GetAssemblyOrModuleSymbol(reference) is IAssemblySymbol assembly)
                {
                    foreach (var module in assembly.Modules)
                    {
                        foreach (var referenced in module.ReferencedAssemblySymbols)
                        {
                            if (SymbolEqualityComparer.Default.Equals(referenced, compilation.Assembly))
                            {
                                return true;
                            }
                        }
                    }
                }
            }

            return false;
        }

        private ulong AllTypes()
        {
            var hash = DeclarationHash.Start;
            foreach (var tree in _trees)
            {
                foreach (var type in tree.Types)
                {
                    hash = DeclarationHash.Add(hash, type.Fingerprint);
                }

                hash = DeclarationHash.Add(hash, DeclarationHash.EndMarker);
            }

            return hash;
        }

        private static void Declares(Dictionary<string, List<long>> declaring, string name, long declaration)
        {
            if (!declaring.TryGetValue(name, out var list))
            {
                declaring.Add(name, list = new List<long>());
            }

            list.Add(declaration);
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

            if (_trees.Length != other._trees.Length || !_outline.HasSameInputs(other._outline))
            {
                return false;
            }

            for (var i = 0; i < _trees.Length; i++)
            {
                if (_trees[i].Fingerprint != other._trees[i].Fingerprint)
                {
                    return false;
                }
            }

            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as DeclarationSnapshot);

        /// <inheritdoc/>
        public override int GetHashCode() => _outline.GetHashCode();

        private static long Pack(int tree, int type) => ((long)tree << 32) | (uint)type;

        /// <summary>Finds the top-level type declarations a repository's parse can read (see <see cref="Gates"/>); its collections are reused from one repository to the next.</summary>
        private sealed class Reach
        {
            private readonly DeclarationSnapshot _snapshot;
            private readonly Dictionary<string, List<long>> _declaring;
            private readonly ImmutableArray<string> _globalIdentifiers;
            private readonly HashSet<long> _reached = new HashSet<long>();
            private readonly Stack<long> _pending = new Stack<long>();
            private readonly HashSet<string> _mentioned = new HashSet<string>(StringComparer.Ordinal);
            private readonly HashSet<int> _treesWithUsings = new HashSet<int>();
            private readonly List<long> _ordered = new List<long>();

            public Reach(DeclarationSnapshot snapshot, Dictionary<string, List<long>> declaring, HashSet<string> globalIdentifiers)
            {
                _snapshot = snapshot;
                _declaring = declaring;
                _globalIdentifiers = ImmutableArray.CreateRange(globalIdentifiers);
            }

            /// <summary>The fingerprint of every top-level type declaration reachable from <paramref name="start"/>.</summary>
            public ulong Fingerprint(long start)
            {
                _reached.Clear();
                _pending.Clear();
                _mentioned.Clear();
                _treesWithUsings.Clear();
                _reached.Add(start);
                _pending.Push(start);
                MentionAll(_globalIdentifiers);
                var trees = _snapshot._trees;
                while (_pending.Count > 0)
                {
                    var declaration = _pending.Pop();
                    var tree = (int)(declaration >> 32);
                    MentionAll(trees[tree].Types[(int)declaration].Identifiers);
                    if (_treesWithUsings.Add(tree))
                    {
                        MentionAll(trees[tree].UsingIdentifiers);
                    }
                }

                _ordered.Clear();
                _ordered.AddRange(_reached);
                _ordered.Sort();
                var hash = DeclarationHash.Start;
                foreach (var declaration in _ordered)
                {
                    hash = DeclarationHash.Add(hash, (ulong)declaration);
                    hash = DeclarationHash.Add(hash, trees[(int)(declaration >> 32)].Types[(int)declaration].Fingerprint);
                }

                return hash;
            }

            private void MentionAll(ImmutableArray<string> names)
            {
                foreach (var name in names)
                {
                    Mention(name);
                }
            }

            private void Mention(string name)
            {
                if (!_mentioned.Add(name) || !_declaring.TryGetValue(name, out var declarations))
                {
                    return;
                }

                foreach (var declaration in declarations)
                {
                    if (_reached.Add(declaration))
                    {
                        _pending.Push(declaration);
                    }
                }
            }
        }
    }

    /// <summary>
    /// What decides, for the whole compilation, which declaration a name binds to and what metadata is visible: the
    /// outline of every syntax tree, the metadata references (by identity: a reference that is not the same object may
    /// hold other metadata under the same path), the options and the assembly name.
    /// </summary>
    internal sealed class DeclarationOutline : IEquatable<DeclarationOutline>
    {
        private readonly ulong[] _outlines;
        private readonly MetadataReference[] _references;
        private readonly CompilationOptions _options;
        private readonly string? _assemblyName;

        public DeclarationOutline(ulong[] outlines, MetadataReference[] references, CompilationOptions options, string? assemblyName)
        {
            _outlines = outlines;
            _references = references;
            _options = options;
            _assemblyName = assemblyName;
        }

        /// <summary>Whether the references, the options and the assembly name are the same (the outlines aside).</summary>
        public bool HasSameInputs(DeclarationOutline other)
        {
            if (ReferenceEquals(this, other))
            {
                return true;
            }

            if (_references.Length != other._references.Length || !string.Equals(_assemblyName, other._assemblyName, StringComparison.Ordinal) || !_options.Equals(other._options))
            {
                return false;
            }

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
        public bool Equals(DeclarationOutline? other)
        {
            if (other is null || !HasSameInputs(other) || _outlines.Length != other._outlines.Length)
            {
                return false;
            }

            for (var i = 0; i < _outlines.Length; i++)
            {
                if (_outlines[i] != other._outlines[i])
                {
                    return false;
                }
            }

            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as DeclarationOutline);

        /// <inheritdoc/>
        public override int GetHashCode() => _outlines.Length;
    }

    /// <summary>
    /// One interface declaration with attributes, and the fingerprint of everything its parse can read (see
    /// <see cref="DeclarationSnapshot.Gates"/>). Equal gates mean equal models, so the parse after a gate runs only for
    /// the gates an edit changed.
    /// </summary>
    internal sealed class RepositoryGate : IEquatable<RepositoryGate>
    {
        private readonly WeakReference<Compilation> _compilation;
        private readonly DeclarationOutline _outline;
        private readonly int _tree;
        private readonly int _ordinal;
        private readonly TextSpan _span;
        private readonly ulong _reach;

        public RepositoryGate(WeakReference<Compilation> compilation, DeclarationOutline outline, int tree, int ordinal, TextSpan span, ulong reach)
        {
            _compilation = compilation;
            _outline = outline;
            _tree = tree;
            _ordinal = ordinal;
            _span = span;
            _reach = reach;
        }

        /// <summary>
        /// The entry of both generators: the compilation's <see cref="DeclarationSnapshot"/> (tracked as
        /// <paramref name="declarationsStep"/>), then its gates (tracked as <paramref name="repositoriesStep"/>).
        /// </summary>
        public static IncrementalValuesProvider<RepositoryGate> Provide(IncrementalGeneratorInitializationContext context, string declarationsStep, string repositoriesStep)
            => context.CompilationProvider
                .Select(static (compilation, cancellationToken) => DeclarationSnapshot.Take(compilation, cancellationToken))
                .WithTrackingName(declarationsStep)
                .SelectMany(static (snapshot, cancellationToken) => snapshot.Gates(cancellationToken))
                .WithTrackingName(repositoriesStep);

        /// <summary>
        /// Runs <paramref name="parse"/> on the repository this gate stands for; null when it stands for none (see
        /// <see cref="TryGetRepository"/>) or when the parse fails. The step after a gate must not fail: a later run would
        /// find the gate cached and the step without a result, and would have to read the gate's collected compilation.
        /// A parser failure still shows: the analyzer runs the same parsers, and the compiler reports what it throws.
        /// </summary>
        public TModel? Parse<TModel>(Func<INamedTypeSymbol, Compilation, CancellationToken, TModel?> parse, CancellationToken cancellationToken)
            where TModel : class
        {
            try
            {
                return TryGetRepository(cancellationToken, out var repository, out var compilation) ? parse(repository, compilation, cancellationToken) : null;
            }
            catch (OperationCanceledException)
            {
                throw;
            }
#pragma warning disable CA1031 // See the summary.
            catch (Exception)
#pragma warning restore CA1031
            {
                return null;
            }
        }

        /// <summary>
        /// The <c>[CachedRepository]</c> interface this gate stands for, with its compilation; false when the interface
        /// is no repository, or when another declaration of the same partial interface stands for it (the first in the
        /// order of the syntax trees). Call it only in a step whose one input is this gate.
        /// </summary>
        internal bool TryGetRepository(CancellationToken cancellationToken, out INamedTypeSymbol repository, out Compilation compilation)
        {
            repository = null!;
            if (!_compilation.TryGetTarget(out compilation!))
            {
                // Unreachable: the step after a gate runs only for a gate made in this run (see the remarks on DeclarationSnapshot).
                return false;
            }

            var trees = compilation.SyntaxTrees as IReadOnlyList<SyntaxTree> ?? compilation.SyntaxTrees.ToList();
            var tree = trees[_tree];
            var node = tree.GetRoot(cancellationToken).FindNode(_span, getInnermostNodeForTie: true);
            if (node is not InterfaceDeclarationSyntax declaration
                || compilation.GetSemanticModel(tree).GetDeclaredSymbol(declaration, cancellationToken) is not { } symbol
                || RepositoryParser.FindAttribute(symbol, KnownNames.CachedRepository) is null)
            {
                return false;
            }

            if (symbol.DeclaringSyntaxReferences.Length > 1)
            {
                SyntaxReference? first = null;
                foreach (var reference in symbol.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(cancellationToken) is InterfaceDeclarationSyntax { AttributeLists.Count: > 0 }
                        && (first is null || Order(trees, reference) < Order(trees, first)))
                    {
                        first = reference;
                    }
                }

                if (first is null || first.SyntaxTree != tree || first.Span != declaration.Span)
                {
                    return false;
                }
            }

            repository = symbol;
            return true;
        }

        /// <inheritdoc/>
        /// <remarks>The span is left out: an edit above the interface moves it, and no model holds a position.</remarks>
        public bool Equals(RepositoryGate? other)
            => other is not null && (ReferenceEquals(this, other)
                || (_tree == other._tree && _ordinal == other._ordinal && _reach == other._reach && _outline.Equals(other._outline)));

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as RepositoryGate);

        /// <inheritdoc/>
        public override int GetHashCode() => _reach.GetHashCode();

        private static long Order(IReadOnlyList<SyntaxTree> trees, SyntaxReference reference)
        {
            var index = 0;
            while (index < trees.Count && trees[index] != reference.SyntaxTree)
            {
                index++;
            }

            return ((long)index << 32) | (uint)reference.Span.Start;
        }
    }
}
