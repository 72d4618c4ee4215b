using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using CachingGen.Generators.Common;
using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Formatters
{
    /// <summary>
    /// Walks the types reachable from a repository's strategy methods and lays each one out. Symbols live only
    /// inside this class; <see cref="Build"/> turns everything into equatable models.
    /// </summary>
    internal sealed class TypeCollector
    {
        private readonly Compilation _compilation;
        private readonly CancellationToken _cancellationToken;
        private readonly Dictionary<ITypeSymbol, TypeEntry> _types = new Dictionary<ITypeSymbol, TypeEntry>(SymbolEqualityComparer.Default);
        private readonly List<TypeEntry> _order = new List<TypeEntry>();
        private readonly Dictionary<string, ShapeEntry> _shapes = new Dictionary<string, ShapeEntry>(StringComparer.Ordinal);
        private readonly List<ShapeEntry> _shapeOrder = new List<ShapeEntry>();
        private readonly List<RootEntry> _roots = new List<RootEntry>();
        private readonly List<DiagnosticInfo> _rootDiagnostics = new List<DiagnosticInfo>();
        private readonly Dictionary<ITypeSymbol, string> _descriptors = new Dictionary<ITypeSymbol, string>(SymbolEqualityComparer.Default);
        private int _backReferences;

        public TypeCollector(Compilation compilation, CancellationToken cancellationToken)
        {
            _compilation = compilation;
            _cancellationToken = cancellationToken;
        }

        /// <summary>Adds a type that a repository method caches or logs.</summary>
        public void AddRoot(ITypeSymbol type, string owner, ISymbol site)
        {
            var dependencies = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
            var problem = Visit(type, dependencies);
            if (problem is not null)
            {
                _rootDiagnostics.Add(DiagnosticInfo.Create(FormatterDiagnostics.UnsupportedType, site, TypeNames.Global(type), owner, problem));
                return;
            }

            _roots.Add(new RootEntry(type, owner, site, dependencies));
        }

        /// <summary>Builds the equatable model of everything collected.</summary>
        public RepositoryFormatterModel Build(string interfaceName)
        {
            PropagateInvalidity();
            foreach (var root in _roots)
            {
                foreach (var dependency in root.Dependencies)
                {
                    if (_types.TryGetValue(dependency, out var entry) && entry.Diagnostics.Count > 0)
                    {
                        _rootDiagnostics.Add(DiagnosticInfo.Create(
                            FormatterDiagnostics.UnsupportedType,
                            root.Site,
                            TypeNames.Global(root.Type),
                            root.Owner,
                            "it uses '" + TypeNames.GlobalWithoutNullable(dependency) + "', which cannot be serialized"));
                        break;
                    }
                }
            }

            var types = new List<FormatterTypeModel>(_order.Count);
            foreach (var entry in _order)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                types.Add(ToModel(entry));
            }

            var shapes = new List<ShapeModel>(_shapeOrder.Count);
            foreach (var shape in _shapeOrder)
            {
                shapes.Add(new ShapeModel(shape.TypeName, shape.FormatterTypeName, Fingerprint(shape.Type)));
            }

            return new RepositoryFormatterModel(interfaceName, types.ToEquatableArray(), shapes.ToEquatableArray(), _rootDiagnostics.ToEquatableArray());
        }

        private void PropagateInvalidity()
        {
            var changed = true;
            while (changed)
            {
                changed = false;
                foreach (var entry in _order)
                {
                    if (entry.Diagnostics.Count > 0)
                    {
                        continue;
                    }

                    foreach (var dependency in entry.Dependencies)
                    {
                        if (_types.TryGetValue(dependency, out var other) && other.Diagnostics.Count > 0)
                        {
                            entry.Diagnostics.Add(DiagnosticInfo.Create(
                                FormatterDiagnostics.DependsOnUnsupportedType,
                                entry.Type,
                                TypeNames.GlobalWithoutNullable(entry.Type),
                                TypeNames.GlobalWithoutNullable(dependency)));
                            changed = true;
                            break;
                        }
                    }
                }
            }
        }

        private string? Visit(ITypeSymbol type, HashSet<ITypeSymbol> dependencies)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            type = FormatterParser.StripAnnotation(type);
            if (FormatterParser.IsBuiltinLeaf(type))
            {
                return null;
            }

            switch (type)
            {
                case IArrayTypeSymbol array:
                    if (array.Rank != 1)
                    {
                        return "multi-dimensional arrays are not supported";
                    }

                    return VisitShape(type, "ArrayFormatter", new[] { array.ElementType }, dependencies);
                case INamedTypeSymbol named:
                    return VisitNamed(named, dependencies);
                case ITypeParameterSymbol:
                    return "type parameters are not supported; use a closed type";
                case IDynamicTypeSymbol:
                    return "'dynamic' needs a dynamic resolver";
                default:
                    return "this kind of type is not supported";
            }
        }

        private string? VisitShape(ITypeSymbol type, string formatter, IReadOnlyList<ITypeSymbol> arguments, HashSet<ITypeSymbol> dependencies)
        {
            foreach (var argument in arguments)
            {
                var problem = Visit(argument, dependencies);
                if (problem is not null)
                {
                    return problem;
                }
            }

            var typeName = TypeNames.GlobalWithoutNullable(type);
            if (!_shapes.ContainsKey(typeName))
            {
                var builder = new StringBuilder("global::MessagePack.Formatters.").Append(formatter).Append('<');
                for (var i = 0; i < arguments.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(", ");
                    }

                    builder.Append(TypeNames.GlobalWithoutNullable(arguments[i]));
                }

                var shape = new ShapeEntry(type, typeName, builder.Append('>').ToString());
                _shapes.Add(typeName, shape);
                _shapeOrder.Add(shape);
            }

            return null;
        }

        private string? VisitNamed(INamedTypeSymbol named, HashSet<ITypeSymbol> dependencies)
        {
            if (named.TypeKind == TypeKind.Error)
            {
                return "the type could not be resolved";
            }

            if (FormatterParser.IsNullableOfT(named, out var underlying))
            {
                return VisitShape(named, "NullableFormatter", new[] { underlying }, dependencies);
            }

            var collection = FormatterParser.CollectionFormatter(named);
            if (collection is not null)
            {
                if (named.TypeArguments.Length == 2 && !FormatterParser.IsCollisionResistantKey(named.TypeArguments[0]))
                {
                    return "its dictionary key type '" + TypeNames.GlobalWithoutNullable(named.TypeArguments[0]) + "' has no hash-collision-resistant comparer in MessagePack's " +
                        "untrusted-data security, which reads every cached entry and write-back record, so reading it would always fail. Key the dictionary by " +
                        "string, an integer type, bool, char, float, double, Guid, DateTime, DateTimeOffset or an enum of at most 32 bits";
                }

                return VisitShape(named, collection, named.TypeArguments, dependencies);
            }

            if (named.SpecialType == SpecialType.System_Object)
            {
                return "'object' needs a dynamic resolver";
            }

            if (ContainsTypeParameters(named))
            {
                return "open generic types are not supported; use a closed type";
            }

            if (!_compilation.IsSymbolAccessibleWithin(named, _compilation.Assembly))
            {
                return "the type is not accessible from generated code in this assembly";
            }

            if (named.TypeKind == TypeKind.Enum)
            {
                GetOrAddEnum(named);
                return null;
            }

            if (named.TypeKind == TypeKind.Interface)
            {
                return "interfaces (other than the supported collection interfaces) need a concrete type to deserialize";
            }

            if (named.TypeKind != TypeKind.Class && named.TypeKind != TypeKind.Struct)
            {
                return "only classes, records, structs, enums and the supported collections can be serialized";
            }

            if (named.IsAbstract)
            {
                return "abstract types need a concrete type to deserialize";
            }

            if (named.IsRefLikeType)
            {
                return "ref struct types cannot be serialized";
            }

            var root = SymbolFacts.RootNamespaceName(named.ContainingNamespace);
            if (root == "System" || root == "Microsoft")
            {
                return "framework types other than MessagePack's built-in ones are not supported";
            }

            foreach (var implemented in named.AllInterfaces)
            {
                if (implemented.SpecialType == SpecialType.System_Collections_IEnumerable)
                {
                    return "collections other than arrays, List, Dictionary and their interfaces are not supported";
                }
            }

            dependencies.Add(named);
            GetOrAddObject(named);
            return null;
        }

        private static bool ContainsTypeParameters(ITypeSymbol type)
        {
            switch (type)
            {
                case ITypeParameterSymbol:
                    return true;
                case IArrayTypeSymbol array:
                    return ContainsTypeParameters(array.ElementType);
                case INamedTypeSymbol named:
                    foreach (var argument in named.TypeArguments)
                    {
                        if (ContainsTypeParameters(argument))
                        {
                            return true;
                        }
                    }

                    return named.ContainingType is not null && ContainsTypeParameters(named.ContainingType);
                default:
                    return false;
            }
        }

        private void GetOrAddEnum(INamedTypeSymbol type)
        {
            if (_types.ContainsKey(type))
            {
                return;
            }

            var entry = new TypeEntry(type, FormatterKind.Enum);
            _types.Add(type, entry);
            _order.Add(entry);
        }

        private void GetOrAddObject(INamedTypeSymbol type)
        {
            if (_types.ContainsKey(type))
            {
                return;
            }

            var entry = new TypeEntry(type, FormatterKind.Object);
            _types.Add(type, entry);
            _order.Add(entry);
            BuildLayout(entry, type);
        }

        private void BuildLayout(TypeEntry entry, INamedTypeSymbol type)
        {
            var candidates = CollectCandidates(type);
            var messagePackObject = SymbolFacts.FindAttribute(type, "MessagePackObjectAttribute", "MessagePack", null);
            var keyAsPropertyName = messagePackObject is not null
                && messagePackObject.ConstructorArguments.Length > 0
                && messagePackObject.ConstructorArguments[0].Value is true;

            if (messagePackObject is not null && !keyAsPropertyName)
            {
                // Declared [Key(int)] layout. String keys (map layout) are laid out in declaration order instead:
                // our formatters are the only reader of what they write, so the array form is self-consistent.
                var keyed = new List<(Candidate Candidate, object? Key)>();
                var hasStringKey = false;
                foreach (var candidate in candidates)
                {
                    var key = SymbolFacts.FindAttribute(candidate.Symbol, "KeyAttribute", "MessagePack", null);
                    if (key is null || key.ConstructorArguments.Length != 1)
                    {
                        continue;
                    }

                    var value = key.ConstructorArguments[0].Value;
                    hasStringKey |= value is string;
                    keyed.Add((candidate, value));
                }

                var used = new HashSet<int>();
                for (var i = 0; i < keyed.Count; i++)
                {
                    var key = hasStringKey ? i : keyed[i].Key is int k ? k : -1;
                    if (key < 0)
                    {
                        entry.Diagnostics.Add(DiagnosticInfo.Create(FormatterDiagnostics.NoUsableConstructor, keyed[i].Candidate.Symbol, TypeNames.GlobalWithoutNullable(type), "member '" + keyed[i].Candidate.Symbol.Name + "' has an invalid [Key]"));
                        continue;
                    }

                    if (!used.Add(key))
                    {
                        entry.Diagnostics.Add(DiagnosticInfo.Create(FormatterDiagnostics.DuplicateKey, keyed[i].Candidate.Symbol, TypeNames.GlobalWithoutNullable(type), FormatterParser.Invariant(key)));
                        continue;
                    }

                    entry.Members.Add(new LayoutMember(key, keyed[i].Candidate));
                }

                entry.Members.Sort((a, b) => a.Key.CompareTo(b.Key));
            }
            else
            {
                for (var i = 0; i < candidates.Count; i++)
                {
                    entry.Members.Add(new LayoutMember(i, candidates[i]));
                }
            }

            foreach (var member in entry.Members)
            {
                var problem = Visit(member.Candidate.Type, entry.Dependencies);
                if (problem is not null)
                {
                    entry.Diagnostics.Add(DiagnosticInfo.Create(
                        FormatterDiagnostics.UnsupportedMemberType,
                        member.Candidate.Symbol,
                        TypeNames.GlobalWithoutNullable(type),
                        member.Candidate.Symbol.Name,
                        TypeNames.Global(member.Candidate.Type),
                        problem));
                }
            }

            ChooseConstructor(entry, type);
        }

        private void ChooseConstructor(TypeEntry entry, INamedTypeSymbol type)
        {
            IMethodSymbol? best = null;
            List<LayoutMember>? bestArguments = null;
            foreach (var constructor in type.InstanceConstructors)
            {
                if (!_compilation.IsSymbolAccessibleWithin(constructor, _compilation.Assembly))
                {
                    continue;
                }

                if (constructor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(constructor.Parameters[0].Type, type))
                {
                    continue; // the record copy constructor
                }

                var arguments = new List<LayoutMember>(constructor.Parameters.Length);
                foreach (var parameter in constructor.Parameters)
                {
                    var match = parameter.RefKind == RefKind.None ? FindMember(entry.Members, parameter) : null;
                    if (match is null)
                    {
                        arguments = null;
                        break;
                    }

                    arguments.Add(match);
                }

                if (arguments is not null && (best is null || constructor.Parameters.Length > best.Parameters.Length))
                {
                    best = constructor;
                    bestArguments = arguments;
                }
            }

            if (best is null || bestArguments is null)
            {
                if (type.TypeKind == TypeKind.Struct)
                {
                    bestArguments = new List<LayoutMember>();
                }
                else
                {
                    entry.Diagnostics.Add(DiagnosticInfo.Create(
                        FormatterDiagnostics.NoUsableConstructor,
                        type,
                        TypeNames.GlobalWithoutNullable(type),
                        "no accessible constructor has parameters that all match serialized members by name and type"));
                    return;
                }
            }

            var setsRequired = best is not null && SymbolFacts.HasAttribute(best, "SetsRequiredMembersAttribute", "CodeAnalysis", "System.Diagnostics");
            var bound = new HashSet<LayoutMember>(bestArguments);
            entry.ConstructorArguments.AddRange(bestArguments);
            foreach (var member in entry.Members)
            {
                var required = member.Candidate.IsRequired && !setsRequired;
                member.AssignInInitializer = member.Candidate.Writable && (!bound.Contains(member) || required);
            }

            if (!setsRequired)
            {
                foreach (var required in RequiredMembers(type))
                {
                    var found = false;
                    foreach (var member in entry.Members)
                    {
                        if (member.Candidate.Symbol.Name == required && member.AssignInInitializer)
                        {
                            found = true;
                            break;
                        }
                    }

                    if (!found)
                    {
                        entry.Diagnostics.Add(DiagnosticInfo.Create(
                            FormatterDiagnostics.NoUsableConstructor,
                            type,
                            TypeNames.GlobalWithoutNullable(type),
                            "required member '" + required + "' is not serialized"));
                    }
                }
            }
        }

        private static IEnumerable<string> RequiredMembers(INamedTypeSymbol type)
        {
            for (var level = type; level is not null; level = level.BaseType)
            {
                foreach (var member in level.GetMembers())
                {
                    if (member is IPropertySymbol { IsRequired: true } || member is IFieldSymbol { IsRequired: true })
                    {
                        yield return member.Name;
                    }
                }
            }
        }

        private static LayoutMember? FindMember(List<LayoutMember> members, IParameterSymbol parameter)
        {
            LayoutMember? caseInsensitive = null;
            foreach (var member in members)
            {
                if (!SymbolEqualityComparer.Default.Equals(member.Candidate.Type, parameter.Type))
                {
                    continue;
                }

                if (string.Equals(member.Candidate.Symbol.Name, parameter.Name, StringComparison.Ordinal))
                {
                    return member;
                }

                if (caseInsensitive is null && string.Equals(member.Candidate.Symbol.Name, parameter.Name, StringComparison.OrdinalIgnoreCase))
                {
                    caseInsensitive = member;
                }
            }

            return caseInsensitive;
        }

        private List<Candidate> CollectCandidates(INamedTypeSymbol type)
        {
            var levels = new List<INamedTypeSymbol>();
            for (var level = type; level is not null && level.SpecialType != SpecialType.System_Object && level.SpecialType != SpecialType.System_ValueType; level = level.BaseType)
            {
                levels.Add(level);
            }

            levels.Reverse();
            var result = new List<Candidate>();
            var byName = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var level in levels)
            {
                foreach (var member in OrderedMembers(level))
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                    var candidate = ToCandidate(member);
                    if (candidate is null)
                    {
                        continue;
                    }

                    if (byName.TryGetValue(member.Name, out var index))
                    {
                        result[index] = candidate; // an override or a 'new' member keeps the base position
                    }
                    else
                    {
                        byName.Add(member.Name, result.Count);
                        result.Add(candidate);
                    }
                }
            }

            return result;
        }

        private static List<ISymbol> OrderedMembers(INamedTypeSymbol level)
        {
            var members = new List<ISymbol>(level.GetMembers());
            if (!level.IsRecord)
            {
                return members;
            }

            IMethodSymbol? primary = null;
            foreach (var constructor in level.InstanceConstructors)
            {
                if (FormatterParser.IsPrimaryConstructor(constructor))
                {
                    primary = constructor;
                    break;
                }
            }

            if (primary is null)
            {
                return members;
            }

            // Positional properties first, in parameter order; the rest in declaration order.
            var ordered = new List<ISymbol>(members.Count);
            foreach (var parameter in primary.Parameters)
            {
                foreach (var member in members)
                {
                    if (member.Name == parameter.Name && (member is IPropertySymbol || member is IFieldSymbol))
                    {
                        ordered.Add(member);
                        break;
                    }
                }
            }

            var positional = new HashSet<ISymbol>(ordered, SymbolEqualityComparer.Default);
            foreach (var member in members)
            {
                if (!positional.Contains(member))
                {
                    ordered.Add(member);
                }
            }

            return ordered;
        }

        private Candidate? ToCandidate(ISymbol member)
        {
            if (member.IsStatic || member.DeclaredAccessibility != Accessibility.Public)
            {
                return null;
            }

            if (SymbolFacts.HasAttribute(member, "IgnoreMemberAttribute", "MessagePack", null)
                || SymbolFacts.HasAttribute(member, "IgnoreDataMemberAttribute", "Serialization", "System.Runtime"))
            {
                return null;
            }

            switch (member)
            {
                case IPropertySymbol property:
                    if (property.IsIndexer
                        || property.ReturnsByRef
                        || property.ReturnsByRefReadonly
                        || property.Name == "EqualityContract"
                        || property.GetMethod is not { DeclaredAccessibility: Accessibility.Public })
                    {
                        return null;
                    }

                    var writable = property.SetMethod is not null && _compilation.IsSymbolAccessibleWithin(property.SetMethod, _compilation.Assembly);
                    return new Candidate(property, property.Type, writable, property.IsRequired);
                case IFieldSymbol field:
                    if (field.IsConst || field.IsImplicitlyDeclared || !field.CanBeReferencedByName)
                    {
                        return null;
                    }

                    return new Candidate(field, field.Type, !field.IsReadOnly, field.IsRequired);
                default:
                    return null;
            }
        }

        private FormatterTypeModel ToModel(TypeEntry entry)
        {
            var type = (INamedTypeSymbol)entry.Type;
            var typeName = TypeNames.GlobalWithoutNullable(type);
            var safeName = TypeNames.SafeIdentifier(type);
            var fingerprint = Fingerprint(type);
            if (entry.Kind == FormatterKind.Enum)
            {
                var underlying = type.EnumUnderlyingType;
                var keyword = underlying is null ? "int" : TypeNames.GlobalWithoutNullable(underlying);
                var read = underlying is null ? "Int32" : FormatterParser.PrimitiveName(underlying.SpecialType) ?? "Int32";
                return new FormatterTypeModel(FormatterKind.Enum, typeName, safeName, true, EquatableArray<MemberModel>.Empty, 0, EquatableArray<string>.Empty, keyword, read, fingerprint, entry.Diagnostics.ToEquatableArray());
            }

            var members = new List<MemberModel>(entry.Members.Count);
            var arrayLength = 0;
            foreach (var member in entry.Members)
            {
                members.Add(ToMemberModel(member));
                arrayLength = Math.Max(arrayLength, member.Key + 1);
            }

            var arguments = new List<string>(entry.ConstructorArguments.Count);
            foreach (var argument in entry.ConstructorArguments)
            {
                arguments.Add(TypeNames.Identifier(argument.Candidate.Symbol.Name));
            }

            return new FormatterTypeModel(
                FormatterKind.Object,
                typeName,
                safeName,
                type.IsValueType,
                members.ToEquatableArray(),
                arrayLength,
                arguments.ToEquatableArray(),
                string.Empty,
                string.Empty,
                fingerprint,
                entry.Diagnostics.ToEquatableArray());
        }

        private static MemberModel ToMemberModel(LayoutMember member)
        {
            var type = FormatterParser.StripAnnotation(member.Candidate.Type);
            var kind = MemberValueKind.Formatter;
            var primitive = FormatterParser.PrimitiveName(type.SpecialType);
            var underlyingName = string.Empty;
            if (primitive is not null)
            {
                kind = MemberValueKind.Primitive;
            }
            else if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
            {
                primitive = FormatterParser.PrimitiveName(underlying.SpecialType);
                if (primitive is not null)
                {
                    kind = MemberValueKind.Enum;
                    underlyingName = TypeNames.GlobalWithoutNullable(underlying);
                }
            }

            return new MemberModel(
                member.Key,
                TypeNames.Identifier(member.Candidate.Symbol.Name),
                TypeNames.Global(member.Candidate.Type),
                kind,
                primitive ?? string.Empty,
                underlyingName,
                member.AssignInInitializer);
        }

        /// <summary>The schema fingerprint of <paramref name="type"/>: FNV-1a of its canonical layout descriptor.</summary>
        private ulong Fingerprint(ITypeSymbol type)
        {
            var builder = new StringBuilder();
            Describe(builder, type, new List<ITypeSymbol>());
            return SchemaFingerprint.Compute(builder.ToString());
        }

        /// <summary>
        /// Appends the canonical layout descriptor. Structural: leaves by name, collections by shape, enums by
        /// underlying type and values, objects by their keys, member names and member descriptors (recursively;
        /// a cycle becomes a back-reference). The names of user types themselves are not part of it, so renaming
        /// or moving a type without changing its layout keeps its fingerprint.
        /// </summary>
        private void Describe(StringBuilder builder, ITypeSymbol type, List<ITypeSymbol> stack)
        {
            type = FormatterParser.StripAnnotation(type);
            if (FormatterParser.IsBuiltinLeaf(type))
            {
                builder.Append("B(").Append(TypeNames.GlobalWithoutNullable(type)).Append(')');
                return;
            }

            if (type is IArrayTypeSymbol array)
            {
                builder.Append("A(");
                Describe(builder, array.ElementType, stack);
                builder.Append(')');
                return;
            }

            if (type is not INamedTypeSymbol named)
            {
                builder.Append("U(").Append(TypeNames.GlobalWithoutNullable(type)).Append(')');
                return;
            }

            if (FormatterParser.IsNullableOfT(named, out var underlying))
            {
                builder.Append("N(");
                Describe(builder, underlying, stack);
                builder.Append(')');
                return;
            }

            if (FormatterParser.CollectionFormatter(named) is not null)
            {
                builder.Append("C:").Append(named.MetadataName).Append('(');
                for (var i = 0; i < named.TypeArguments.Length; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    Describe(builder, named.TypeArguments[i], stack);
                }

                builder.Append(')');
                return;
            }

            if (named.TypeKind == TypeKind.Enum)
            {
                builder.Append("E:").Append(named.EnumUnderlyingType is { } u ? TypeNames.GlobalWithoutNullable(u) : "int").Append('{');
                foreach (var member in named.GetMembers())
                {
                    if (member is IFieldSymbol { HasConstantValue: true } field)
                    {
                        builder.Append(field.Name).Append('=').Append(Convert.ToString(field.ConstantValue, CultureInfo.InvariantCulture)).Append(';');
                    }
                }

                builder.Append('}');
                return;
            }

            if (!_types.TryGetValue(named, out var entry) || entry.Kind != FormatterKind.Object)
            {
                builder.Append("U(").Append(TypeNames.GlobalWithoutNullable(type)).Append(')');
                return;
            }

            for (var i = 0; i < stack.Count; i++)
            {
                if (SymbolEqualityComparer.Default.Equals(stack[i], named))
                {
                    _backReferences++;
                    builder.Append("R(");
                    FormatterParser.AppendInvariant(builder, stack.Count - i);
                    builder.Append(')');
                    return;
                }
            }

            if (_descriptors.TryGetValue(named, out var cached))
            {
                builder.Append(cached);
                return;
            }

            var start = builder.Length;
            var backReferencesBefore = _backReferences;
            stack.Add(named);
            builder.Append(named.IsValueType ? "S[" : "O[");
            foreach (var member in entry.Members)
            {
                FormatterParser.AppendInvariant(builder, member.Key);
                builder.Append(':').Append(member.Candidate.Symbol.Name).Append(':');
                Describe(builder, member.Candidate.Type, stack);
                builder.Append(';');
            }

            builder.Append(']');
            stack.RemoveAt(stack.Count - 1);
            if (_backReferences == backReferencesBefore)
            {
                _descriptors[named] = builder.ToString(start, builder.Length - start);
            }
        }

        private sealed class TypeEntry
        {
            public TypeEntry(ITypeSymbol type, FormatterKind kind)
            {
                Type = type;
                Kind = kind;
            }

            public ITypeSymbol Type { get; }

            public FormatterKind Kind { get; }

            public List<LayoutMember> Members { get; } = new List<LayoutMember>();

            public List<LayoutMember> ConstructorArguments { get; } = new List<LayoutMember>();

            public List<DiagnosticInfo> Diagnostics { get; } = new List<DiagnosticInfo>();

            public HashSet<ITypeSymbol> Dependencies { get; } = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        }

        private sealed class Candidate
        {
            public Candidate(ISymbol symbol, ITypeSymbol type, bool writable, bool isRequired)
            {
                Symbol = symbol;
                Type = type;
                Writable = writable;
                IsRequired = isRequired;
            }

            public ISymbol Symbol { get; }

            public ITypeSymbol Type { get; }

            public bool Writable { get; }

            public bool IsRequired { get; }
        }

        private sealed class LayoutMember
        {
            public LayoutMember(int key, Candidate candidate)
            {
                Key = key;
                Candidate = candidate;
            }

            public int Key { get; }

            public Candidate Candidate { get; }

            public bool AssignInInitializer { get; set; }
        }

        private sealed class ShapeEntry
        {
            public ShapeEntry(ITypeSymbol type, string typeName, string formatterTypeName)
            {
                Type = type;
                TypeName = typeName;
                FormatterTypeName = formatterTypeName;
            }

            public ITypeSymbol Type { get; }

            public string TypeName { get; }

            public string FormatterTypeName { get; }
        }

        private sealed class RootEntry
        {
            public RootEntry(ITypeSymbol type, string owner, ISymbol site, HashSet<ITypeSymbol> dependencies)
            {
                Type = type;
                Owner = owner;
                Site = site;
                Dependencies = dependencies;
            }

            public ITypeSymbol Type { get; }

            public string Owner { get; }

            public ISymbol Site { get; }

            public HashSet<ITypeSymbol> Dependencies { get; }
        }
    }
}
