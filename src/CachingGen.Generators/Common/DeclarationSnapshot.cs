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
    /// of every syntax tree, and the <see cref="CompilationInputs"/> (the metadata references by identity, the options,
    /// the assembly name). Two snapshots are equal when all of these are; then every symbol
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
        private readonly CompilationInputs _inputs;
        private ImmutableArray<RepositoryGate> _gates;

        private DeclarationSnapshot(Compilation compilation, TreeDeclarations[] trees, CompilationInputs inputs)
        {
            _compilation = new WeakReference<Compilation>(compilation);
            _trees = trees;
            _inputs = inputs;
        }

        /// <summary>The snapshot of <paramref name="compilation"/>: taken once, and shared by both generators.</summary>
        public static DeclarationSnapshot Take(Compilation compilation, CancellationToken cancellationToken)
            => WeakMemo.GetOrCompute(Snapshots, compilation, TakeNew, cancellationToken);

        private static DeclarationSnapshot TakeNew(Compilation compilation, CancellationToken cancellationToken)
        {
            var syntaxTrees = TreesOf(compilation);
            var trees = new TreeDeclarations[syntaxTrees.Count];
            var global = DeclarationHash.Start;
            for (var i = 0; i < trees.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                trees[i] = TreeDeclarations.Of(syntaxTrees[i], cancellationToken);
                if (trees[i].Global != DeclarationHash.Start)
                {
                    // Only trees with global content count, so that a new file without any leaves every gate as it was.
                    global = DeclarationHash.Add(global, trees[i].Global);
                }
            }

            var inputs = new CompilationInputs(global, compilation.References.ToArray(), compilation.Options, compilation.AssemblyName);
            return new DeclarationSnapshot(compilation, trees, inputs);
        }

        /// <summary>
        /// One gate per interface declaration with attributes (what may be a <c>[CachedRepository]</c>), in the order of
        /// the syntax trees and of the declarations within each tree. A gate is equal to the one before an edit when
        /// nothing that the parse of its interface can read has changed: no reference, option or global content (see
        /// <see cref="CompilationInputs"/>), and nothing its reach covers.
        /// </summary>
        /// <remarks>
        /// The reach is found from syntax alone, generously. Starting at the interface's top-level type, every identifier
        /// a reached declaration mentions (and the identifiers of every using directive of a reached tree, of every
        /// global using and of every assembly attribute: a <c>using static</c> brings members into scope by no type name)
        /// leads to every top-level type that declares a type of that name, or of that name plus "Attribute", anywhere.
        /// The reach's fingerprint covers those types, the scope of every tree they are in (usings, namespaces, where
        /// each type sits, directives), and for each mentioned name the namespaces it could be. A name can bind
        /// differently only when one of these changes. When a reference was built against this assembly, its members
        /// name this assembly's source types in metadata, where no name can be followed: then every gate reaches every type.
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
            var namespaces = new HashSet<string>(StringComparer.Ordinal);
            var globalIdentifiers = new HashSet<string>(StringComparer.Ordinal);
            for (var tree = 0; tree < _trees.Length; tree++)
            {
                globalIdentifiers.UnionWith(_trees[tree].GlobalIdentifiers);
                foreach (var fullName in _trees[tree].NamespaceNames)
                {
                    namespaces.Add(fullName);
                }

                if (_trees[tree].HasTopLevelStatements)
                {
                    // Top-level statements declare a Program class, which no type declaration names.
                    Declares(declaring, "Program", Pack(tree, NamespaceOnly));
                }

                var types = _trees[tree].Types;
                for (var type = 0; type < types.Length; type++)
                {
                    foreach (var name in types[type].DeclaredNames)
                    {
                        Declares(declaring, name, Pack(tree, type));
                        if (AttributeShortName(name) is { } shortName)
                        {
                            Declares(declaring, shortName, Pack(tree, type));
                        }
                    }
                }
            }

            // A referenced assembly built against this one leads back to its source types through its own members,
            // which name them in metadata, not in any text a reach can follow: then every repository reaches everything.
            var everything = ReferencesThisAssembly(cancellationToken) ? AllTypes() : (ulong?)null;
            var gates = ImmutableArray.CreateBuilder<RepositoryGate>();
            var reach = new Reach(this, declaring, NamespacesBySegment(namespaces), globalIdentifiers);
            for (var tree = 0; tree < _trees.Length; tree++)
            {
                var candidates = _trees[tree].Candidates;
                for (var ordinal = 0; ordinal < candidates.Length; ordinal++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var fingerprint = everything ?? reach.Fingerprint(Pack(tree, candidates[ordinal].TypeIndex));
                    gates.Add(new RepositoryGate(_compilation, _inputs, tree, ordinal, candidates[ordinal].Span, fingerprint));
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

        /// <summary>
        /// For each segment of a declared namespace name, a hash of every declared namespace whose name holds it: a name
        /// binds differently only when the namespaces it could be change, not when another file joins one of them.
        /// </summary>
        private static Dictionary<string, ulong> NamespacesBySegment(HashSet<string> namespaces)
        {
            var ordered = namespaces.ToList();
            ordered.Sort(StringComparer.Ordinal);
            var bySegment = new Dictionary<string, ulong>(StringComparer.Ordinal);
            foreach (var fullName in ordered)
            {
                foreach (var segment in fullName.Split('.'))
                {
                    Add(segment, fullName);

                    // A namespace FooAttribute is what [Foo] finds when it is there.
                    if (AttributeShortName(segment) is { } shortName)
                    {
                        Add(shortName, fullName);
                    }
                }
            }

            return bySegment;

            void Add(string segment, string fullName)
                => bySegment[segment] = DeclarationHash.Add(bySegment.TryGetValue(segment, out var hash) ? hash : DeclarationHash.Start, fullName);
        }

        /// <summary>"Foo" for "FooAttribute" (what <c>[Foo]</c> also looks for); null for any other name.</summary>
        private static string? AttributeShortName(string name)
            => name.Length > "Attribute".Length && name.EndsWith("Attribute", StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : null;

        /// <summary>The compilation's syntax trees by index (a C# compilation already holds them as a list).</summary>
        internal static IReadOnlyList<SyntaxTree> TreesOf(Compilation compilation)
            => compilation.SyntaxTrees as IReadOnlyList<SyntaxTree> ?? compilation.SyntaxTrees.ToList();

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

            if (_trees.Length != other._trees.Length || !_inputs.HasSameInputs(other._inputs))
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
        public override int GetHashCode() => _inputs.GetHashCode();

        /// <summary>Stands, in place of a type's index, for the scope of a tree (its usings, namespaces, directives, top-level statements).</summary>
        private const int NamespaceOnly = int.MaxValue;

        private static long Pack(int tree, int type) => ((long)tree << 32) | (uint)type;

        /// <summary>Finds the top-level type declarations a repository's parse can read (see <see cref="Gates"/>); its collections are reused from one repository to the next.</summary>
        private sealed class Reach
        {
            private readonly DeclarationSnapshot _snapshot;
            private readonly Dictionary<string, List<long>> _declaring;
            private readonly Dictionary<string, ulong> _namespaces;
            private readonly ImmutableArray<string> _globalIdentifiers;
            private readonly HashSet<long> _reached = new HashSet<long>();
            private readonly Stack<long> _pending = new Stack<long>();
            private readonly HashSet<string> _mentioned = new HashSet<string>(StringComparer.Ordinal);
            private readonly HashSet<int> _treesWithUsings = new HashSet<int>();
            private readonly List<long> _ordered = new List<long>();
            private readonly List<ulong> _namespaceHashes = new List<ulong>();

            public Reach(DeclarationSnapshot snapshot, Dictionary<string, List<long>> declaring, Dictionary<string, ulong> namespaces, HashSet<string> globalIdentifiers)
            {
                _snapshot = snapshot;
                _declaring = declaring;
                _namespaces = namespaces;
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
                    if ((int)declaration != NamespaceOnly)
                    {
                        MentionAll(trees[tree].Types[(int)declaration].Identifiers);
                    }

                    if (_treesWithUsings.Add(tree))
                    {
                        MentionAll(trees[tree].UsingIdentifiers);
                    }
                }

                // Every reached declaration, and the scope (usings, namespaces, directives) of every tree it is in.
                _ordered.Clear();
                _ordered.AddRange(_reached);
                foreach (var tree in _treesWithUsings)
                {
                    _ordered.Add(Pack(tree, NamespaceOnly));
                }

                _ordered.Sort();
                var hash = DeclarationHash.Start;

                // The namespaces each mentioned name could be (sorted: the order of mentions is not fixed).
                _namespaceHashes.Clear();
                foreach (var name in _mentioned)
                {
                    if (_namespaces.TryGetValue(name, out var namespaces))
                    {
                        _namespaceHashes.Add(DeclarationHash.Add(DeclarationHash.Add(DeclarationHash.Start, name), namespaces));
                    }
                }

                _namespaceHashes.Sort();
                foreach (var namespaces in _namespaceHashes)
                {
                    hash = DeclarationHash.Add(hash, namespaces);
                }

                var previous = -1L;
                foreach (var declaration in _ordered)
                {
                    if (declaration == previous)
                    {
                        continue;
                    }

                    previous = declaration;
                    var tree = trees[(int)(declaration >> 32)];
                    hash = DeclarationHash.Add(hash, (ulong)declaration);
                    hash = DeclarationHash.Add(hash, (int)declaration == NamespaceOnly ? tree.Scope : tree.Types[(int)declaration].Fingerprint);
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
    /// What can change any repository's symbols without being named in the declarations it reaches: the global content
    /// of the trees (<see cref="TreeDeclarations.Global"/>), the metadata references (by identity: a reference that is
    /// not the same object may hold other metadata under the same path), the options and the assembly name.
    /// </summary>
    internal sealed class CompilationInputs : IEquatable<CompilationInputs>
    {
        private readonly ulong _global;
        private readonly MetadataReference[] _references;
        private readonly CompilationOptions _options;
        private readonly string? _assemblyName;

        public CompilationInputs(ulong global, MetadataReference[] references, CompilationOptions options, string? assemblyName)
        {
            _global = global;
            _references = references;
            _options = options;
            _assemblyName = assemblyName;
        }

        /// <summary>Whether the references, the options and the assembly name are the same (the trees' global content aside).</summary>
        public bool HasSameInputs(CompilationInputs other)
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
        public bool Equals(CompilationInputs? other) => other is not null && _global == other._global && HasSameInputs(other);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as CompilationInputs);

        /// <inheritdoc/>
        public override int GetHashCode() => _global.GetHashCode();
    }

    /// <summary>
    /// One interface declaration with attributes, and the fingerprint of everything its parse can read (see
    /// <see cref="DeclarationSnapshot.Gates"/>). Equal gates mean equal models, so the parse after a gate runs only for
    /// the gates an edit changed.
    /// </summary>
    internal sealed class RepositoryGate : IEquatable<RepositoryGate>
    {
        private readonly WeakReference<Compilation> _compilation;
        private readonly CompilationInputs _inputs;
        private readonly int _tree;
        private readonly int _ordinal;
        private readonly TextSpan _span;
        private readonly ulong _reach;

        public RepositoryGate(WeakReference<Compilation> compilation, CompilationInputs inputs, int tree, int ordinal, TextSpan span, ulong reach)
        {
            _compilation = compilation;
            _inputs = inputs;
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

            var trees = DeclarationSnapshot.TreesOf(compilation);
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
                || (_tree == other._tree && _ordinal == other._ordinal && _reach == other._reach && _inputs.Equals(other._inputs)));

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
