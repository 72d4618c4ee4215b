using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using CachingGen.Generators.Common;
using CachingGen.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Generators.Decorators
{
    /// <summary>The parser's answer for one interface: the model (null when an error prevents generation) and every rule violation found.</summary>
    internal sealed record RepositoryParseResult(RepositoryModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>
    /// Turns an annotated interface symbol into a <see cref="RepositoryModel"/>. The generator uses the model; the
    /// analyzer reports the diagnostics. Both call this one parser, so the rules live in one place. It never throws
    /// on user code: every unsupported shape becomes a diagnostic.
    /// </summary>
    internal static class RepositoryParser
    {
        /// <summary>The longest time to live accepted at all (CGEN004).</summary>
        internal const int MaximumTtlSeconds = 366 * 24 * 3600;

        /// <summary>Longer times to live are accepted with a warning (CGEN026).</summary>
        internal const int LongTtlSeconds = 30 * 24 * 3600;

        /// <summary>A write-around without invalidation may leave entries stale for longer than this only with CGEN025.</summary>
        internal const int StaleWindowSeconds = 60;

        private const int MaximumWriteBackArguments = 4;

        /// <summary>The model and every diagnostic (what the analyzer reports).</summary>
        public static RepositoryParseResult Parse(INamedTypeSymbol repository, CancellationToken cancellationToken)
            => Parse(repository, advice: true, cancellationToken);

        /// <summary>
        /// Only the model (what the generator emits). Skips the advice (CGEN022, CGEN024, CGEN025: warnings and
        /// infos that never stop generation), which the generator would throw away after paying for it on every
        /// compilation: CGEN024 walks the members of every write-back argument's type and their interfaces.
        /// </summary>
        public static RepositoryModel? ParseModel(INamedTypeSymbol repository, CancellationToken cancellationToken)
            => Parse(repository, advice: false, cancellationToken).Model;

        private static RepositoryParseResult Parse(INamedTypeSymbol repository, bool advice, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var repositoryAttribute = FindAttribute(repository, KnownNames.CachedRepository);

            if (repository.TypeKind != TypeKind.Interface)
            {
                return new RepositoryParseResult(null, EquatableArray<DiagnosticInfo>.Empty);
            }

            if (repository.IsGenericType)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedInterface, repository, repository.Name, "is generic",
                    "Declare one non-generic interface per entity type; it may inherit a generic base interface (interface IPreferenceRepository : IRepository<Preference>)."));
            }

            if (!IsAccessibleFromNamespace(repository))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedInterface, repository, repository.Name, "is not accessible outside its containing type",
                    "Make the interface and its containing types public or internal."));
            }

            var defaultTtl = ReadInt(repositoryAttribute, "DefaultTtl") ?? 300;
            if (defaultTtl <= 0 || defaultTtl > MaximumTtlSeconds)
            {
                diagnostics.Add(TtlDiagnostic(repository, "DefaultTtl", defaultTtl));
            }
            else if (defaultTtl > LongTtlSeconds)
            {
                diagnostics.Add(LongTtlDiagnostic(repository, "DefaultTtl", defaultTtl, null));
            }

            var methods = new List<MethodDraft>();
            var members = new List<MemberModel>();
            var usedNames = new HashSet<string>();
            var keyMembers = new Dictionary<ITypeSymbol, List<ISymbol>>(SymbolEqualityComparer.Default);
            foreach (var (member, declaringInterface) in AllMembers(repository))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var explicitImplementation = !usedNames.Add(member.Name);
                switch (member)
                {
                    case IMethodSymbol method when method.MethodKind == MethodKind.Ordinary:
                        var draft = ParseMethod(method, declaringInterface, explicitImplementation, keyMembers, diagnostics);
                        if (draft is not null)
                        {
                            methods.Add(draft);
                        }

                        break;
                    case IPropertySymbol property:
                        members.Add(PassThroughProperty(property, declaringInterface, explicitImplementation));
                        break;
                    case IEventSymbol @event:
                        members.Add(PassThroughEvent(@event, declaringInterface, explicitImplementation));
                        break;
                }
            }

            // The entity: the one type that the annotated methods read or write.
            var entities = new Dictionary<ITypeSymbol, MethodDraft>(SymbolEqualityComparer.Default);
            foreach (var draft in methods)
            {
                if (draft.EntityCandidate is not null && !entities.ContainsKey(draft.EntityCandidate))
                {
                    entities.Add(draft.EntityCandidate, draft);
                }
            }

            var keyPrefix = ReadString(repositoryAttribute, "KeyPrefix");
            ITypeSymbol? entityType = null;
            if (entities.Count > 1)
            {
                var names = new List<string>();
                foreach (var type in entities.Keys)
                {
                    names.Add(type.ToDisplayString());
                }

                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MultipleEntityTypes, repository, repository.Name,
                    string.Join(", ", names), keyPrefix ?? "?"));
            }
            else if (entities.Count == 1)
            {
                foreach (var type in entities.Keys)
                {
                    entityType = type;
                }
            }

            EntityModel? entity = null;
            if (entityType is not null)
            {
                entity = ParseEntity(entityType, entities[entityType].Symbol, KeyMembersOf(entityType, keyMembers), diagnostics);
            }

            var completed = new List<(MethodDraft Draft, MemberModel Member)>();
            foreach (var draft in methods)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var member = CompleteMethod(repository, draft, entityType, entity, defaultTtl, advice, diagnostics);
                members.Add(member);
                completed.Add((draft, member));
            }

            var hasErrors = false;
            foreach (var diagnostic in diagnostics)
            {
                hasErrors |= diagnostic.Descriptor.DefaultSeverity == DiagnosticSeverity.Error;
            }

            var annotated = false;
            var hasWriteBack = false;
            foreach (var member in members)
            {
                annotated |= member.Strategy != Strategy.PassThrough;
                hasWriteBack |= member.Strategy == Strategy.WriteBack;
            }

            if (annotated && entity is null && !hasErrors)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoKeySource, repository, repository.Name, "CachedRepository",
                    "none of its methods names the cached entity",
                    "Add a [Cached] read that returns the entity, or an entity parameter to a write method."));
                hasErrors = true;
            }

            if (hasErrors)
            {
                return new RepositoryParseResult(null, diagnostics.ToEquatableArray());
            }

            var simpleName = repository.Name.Length > 1 && repository.Name[0] == 'I' && char.IsUpper(repository.Name[1])
                ? repository.Name.Substring(1)
                : repository.Name;
            var effectivePrefix = keyPrefix ?? (entityType?.Name.ToLowerInvariant() ?? simpleName.ToLowerInvariant());
            if (advice)
            {
                AddStrategyMixAdvice(repository, effectivePrefix, completed, diagnostics);
            }

            entity ??= new EntityModel("object", true, EquatableArray<KeyPartModel>.Empty);
            var interfaceName = TypeNames.GlobalWithoutNullable(repository);
            var decoratorName = "Cached" + simpleName;
            var model = new RepositoryModel(
                Namespace: repository.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : string.Empty,
                InterfaceGlobalName: interfaceName,
                StableName: TypeNames.ErrorMessage(repository),
                DecoratorName: decoratorName,
                RegistrationName: decoratorName + "Registration",
                Accessibility: IsEffectivelyPublic(repository) ? "public" : "internal",
                KeyPrefix: effectivePrefix,
                DefaultTtlSeconds: defaultTtl,
                Entity: entity,
                Members: members.ToEquatableArray(),
                HasWriteBack: hasWriteBack);
            return new RepositoryParseResult(model, diagnostics.ToEquatableArray());
        }

        /// <summary>The interface's own members, then those of its base interfaces; static members are skipped.</summary>
        internal static IEnumerable<(ISymbol Member, INamedTypeSymbol DeclaringInterface)> AllMembers(INamedTypeSymbol repository)
        {
            foreach (var member in repository.GetMembers())
            {
                if (!member.IsStatic)
                {
                    yield return (member, repository);
                }
            }

            foreach (var baseInterface in repository.AllInterfaces)
            {
                foreach (var member in baseInterface.GetMembers())
                {
                    if (!member.IsStatic)
                    {
                        yield return (member, baseInterface);
                    }
                }
            }
        }

        private sealed class MethodDraft
        {
            public MethodDraft(IMethodSymbol symbol, INamedTypeSymbol declaringInterface, bool explicitImplementation, Strategy strategy, AttributeData? attribute)
            {
                Symbol = symbol;
                DeclaringInterface = declaringInterface;
                ExplicitImplementation = explicitImplementation;
                Strategy = strategy;
                Attribute = attribute;
            }

            public IMethodSymbol Symbol { get; }

            public INamedTypeSymbol DeclaringInterface { get; }

            public bool ExplicitImplementation { get; }

            public Strategy Strategy { get; }

            public AttributeData? Attribute { get; }

            public ReturnKind ReturnKind { get; set; }

            public ITypeSymbol? ResultType { get; set; }

            public ITypeSymbol? EntityCandidate { get; set; }

            public bool Invalid { get; set; }
        }

        private static MethodDraft? ParseMethod(IMethodSymbol method, INamedTypeSymbol declaringInterface, bool explicitImplementation, Dictionary<ITypeSymbol, List<ISymbol>> keyMembers, List<DiagnosticInfo> diagnostics)
        {
            var strategies = new List<(Strategy Strategy, AttributeData Attribute)>();
            foreach (var attribute in method.GetAttributes())
            {
                if (attribute.AttributeClass is { } attributeClass && IsOurs(attributeClass))
                {
                    var strategy = KnownNames.StrategyOf(attributeClass.Name);
                    if (strategy != Strategy.PassThrough)
                    {
                        strategies.Add((strategy, attribute));
                    }
                }
            }

            if (strategies.Count > 1)
            {
                var names = new List<string>();
                foreach (var (strategy, _) in strategies)
                {
                    names.Add(KnownNames.DisplayName(strategy));
                }

                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MultipleStrategies, method, method.Name, string.Join(", ", names)));
                return new MethodDraft(method, declaringInterface, explicitImplementation, strategies[0].Strategy, strategies[0].Attribute) { Invalid = true };
            }

            var draft = strategies.Count == 0
                ? new MethodDraft(method, declaringInterface, explicitImplementation, Strategy.PassThrough, null)
                : new MethodDraft(method, declaringInterface, explicitImplementation, strategies[0].Strategy, strategies[0].Attribute);
            var (returnKind, resultType) = ClassifyReturn(method.ReturnType);
            draft.ReturnKind = returnKind;
            draft.ResultType = resultType;
            if (draft.Strategy == Strategy.PassThrough)
            {
                return draft;
            }

            var display = KnownNames.DisplayName(draft.Strategy);
            if (method.IsGenericMethod)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericCachingMethod, method, method.Name));
                draft.Invalid = true;
            }

            if (returnKind == ReturnKind.Other)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MethodNotAsync, method, method.Name, display, method.ReturnType.ToDisplayString()));
                draft.Invalid = true;
            }

            foreach (var parameter in method.Parameters)
            {
                if (parameter.RefKind != RefKind.None)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ByRefParameter, parameter, parameter.Name, method.Name));
                    draft.Invalid = true;
                }
            }

            if (draft.Strategy == Strategy.WriteBack && (returnKind == ReturnKind.TaskOfT || returnKind == ReturnKind.ValueTaskOfT))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WriteBackReturnsValue, method, method.Name, method.ReturnType.ToDisplayString()));
                draft.Invalid = true;
            }

            if (draft.Strategy == Strategy.Cached)
            {
                if (resultType is not null)
                {
                    var candidate = StripNullable(resultType);
                    if (HasKeyMembers(candidate, keyMembers))
                    {
                        if (IsNullableValueType(resultType))
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NullableStructEntity, method, method.Name, method.ReturnType.ToDisplayString(), candidate.ToDisplayString()));
                            draft.Invalid = true;
                        }
                        else
                        {
                            draft.EntityCandidate = candidate;
                        }
                    }
                    else if (LooksLikeEntity(candidate))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EntityWithoutKey, method, candidate.ToDisplayString(), method.Name));
                        draft.Invalid = true;
                    }
                    else
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CachedReturnNotEntity, method, method.Name, method.ReturnType.ToDisplayString()));
                        draft.Invalid = true;
                    }
                }
                else if (returnKind != ReturnKind.Other)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CachedReturnNotEntity, method, method.Name, method.ReturnType.ToDisplayString()));
                    draft.Invalid = true;
                }
            }
            else
            {
                ITypeSymbol? candidate = null;
                ITypeSymbol? keylessUserType = null;
                foreach (var parameter in method.Parameters)
                {
                    if (SymbolFacts.IsCancellationToken(parameter.Type))
                    {
                        continue;
                    }

                    var declared = ElementTypeOf(parameter.Type) ?? parameter.Type;
                    var type = StripNullable(declared);
                    if (HasKeyMembers(type, keyMembers))
                    {
                        if (IsNullableValueType(declared))
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NullableStructEntity, parameter, method.Name, parameter.Type.ToDisplayString(), type.ToDisplayString()));
                            draft.Invalid = true;
                        }
                        else
                        {
                            candidate ??= type;
                        }
                    }
                    else if (LooksLikeEntity(type))
                    {
                        keylessUserType ??= type;
                    }
                }

                draft.EntityCandidate = candidate;
                if (candidate is null && keylessUserType is not null && (draft.Strategy == Strategy.WriteThrough || draft.Strategy == Strategy.WriteBack))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EntityWithoutKey, method, keylessUserType.ToDisplayString(), method.Name));
                    draft.Invalid = true;
                }
            }

            return draft;
        }

        private static MemberModel CompleteMethod(INamedTypeSymbol repository, MethodDraft draft, ITypeSymbol? entityType, EntityModel? entity, int defaultTtl, bool advice, List<DiagnosticInfo> diagnostics)
        {
            var method = draft.Symbol;
            var parameters = new List<ParameterModel>();
            var signatureTypes = new List<string>();
            foreach (var parameter in method.Parameters)
            {
                var isToken = SymbolFacts.IsCancellationToken(parameter.Type);
                parameters.Add(new ParameterModel(
                    parameter.Name,
                    TypeNames.Global(parameter.Type),
                    RefKindText(parameter.RefKind),
                    isToken,
                    parameter.IsParams,
                    DefaultValueText(parameter)));
                if (!isToken)
                {
                    signatureTypes.Add(TypeNames.ErrorMessage(parameter.Type));
                }
            }

            var ttl = 0;
            var nullTtl = 0;
            var invalidate = true;
            var coalesce = false;
            ApplyManyModel? applyMany = null;
            var keySource = KeySourceKind.None;
            var keyParameterIndexes = EquatableArray<int>.Empty;
            var materialize = false;
            string? elementType = null;
            string? idempotencyMember = null;
            var idempotencyEncoding = KeyEncoding.Direct;
            string? idempotencyCast = null;

            if (draft.Strategy != Strategy.PassThrough && !draft.Invalid && entityType is not null && entity is not null)
            {
                switch (draft.Strategy)
                {
                    case Strategy.Cached:
                        ttl = ReadTtl(draft, "Ttl", 300, positive: true, diagnostics);
                        nullTtl = ReadTtl(draft, "NullTtl", 0, positive: false, diagnostics);
                        break;
                    case Strategy.WriteThrough:
                        ttl = ReadTtl(draft, "Ttl", defaultTtl, positive: true, diagnostics);
                        break;
                    case Strategy.WriteBack:
                        ttl = ReadTtl(draft, "Ttl", defaultTtl, positive: true, diagnostics);
                        coalesce = ReadBool(draft.Attribute, "Coalesce") ?? false;
                        break;
                    case Strategy.WriteAround:
                        ttl = ReadTtl(draft, "Ttl", 30, positive: true, diagnostics);
                        invalidate = ReadBool(draft.Attribute, "Invalidate") ?? true;
                        break;
                }

                (keySource, keyParameterIndexes, materialize, elementType) = ResolveKeySource(draft, entityType, entity, diagnostics);
                if (draft.Strategy == Strategy.WriteBack && keySource == KeySourceKind.Entity)
                {
                    (idempotencyMember, idempotencyEncoding, idempotencyCast) = ResolveIdempotency(draft, entityType, diagnostics);
                    if (advice)
                    {
                        ReportMutableArguments(method, diagnostics);
                    }

                    applyMany = MultiRowApply.Resolve(repository, method, draft.Attribute, diagnostics);
                }
            }

            var resultType = draft.ResultType;
            return new MemberModel(
                Kind: MemberKind.Method,
                Name: method.Name,
                DeclaringInterface: TypeNames.GlobalWithoutNullable(draft.DeclaringInterface),
                ExplicitImplementation: draft.ExplicitImplementation || method.IsGenericMethod,
                ReturnType: TypeNames.Global(method.ReturnType),
                ReturnKind: draft.ReturnKind,
                ResultType: resultType is null ? null : TypeNames.Global(resultType),
                // Oblivious (#nullable disable) results are emitted in a nullable-enabled file, where they read as non-nullable.
                ResultIsNonNullableReference: resultType is not null && resultType.IsReferenceType && resultType.NullableAnnotation != NullableAnnotation.Annotated,
                Parameters: parameters.ToEquatableArray(),
                TypeParameters: method.IsGenericMethod ? "<" + string.Join(", ", TypeParameterNames(method)) + ">" : string.Empty,
                Strategy: draft.Strategy,
                TtlSeconds: ttl,
                NullTtlSeconds: nullTtl,
                Invalidate: invalidate,
                KeySource: keySource,
                KeyParameterIndexes: keyParameterIndexes,
                CollectionNeedsMaterializing: materialize,
                CollectionElementType: elementType,
                IdempotencyMember: idempotencyMember,
                IdempotencyEncoding: idempotencyEncoding,
                IdempotencyCastType: idempotencyCast,
                StableSignature: method.Name + "(" + string.Join(",", signatureTypes) + ")",
                HasGetter: false,
                HasSetter: false,
                IsIndexer: false)
            {
                Coalesce = coalesce,
                ApplyMany = applyMany,
            };
        }

        private static IEnumerable<string> TypeParameterNames(IMethodSymbol method)
        {
            foreach (var typeParameter in method.TypeParameters)
            {
                yield return typeParameter.Name;
            }
        }

        private static (KeySourceKind, EquatableArray<int>, bool, string?) ResolveKeySource(MethodDraft draft, ITypeSymbol entityType, EntityModel entity, List<DiagnosticInfo> diagnostics)
        {
            var method = draft.Symbol;
            var valueParameters = new List<int>();
            int entityIndex = -1, collectionIndex = -1, entityCount = 0;
            for (var i = 0; i < method.Parameters.Length; i++)
            {
                var parameter = method.Parameters[i];
                if (SymbolFacts.IsCancellationToken(parameter.Type))
                {
                    continue;
                }

                valueParameters.Add(i);
                if (SymbolEqualityComparer.Default.Equals(StripNullable(parameter.Type), entityType))
                {
                    entityIndex = i;
                    entityCount++;
                }
                else if (ElementTypeOf(parameter.Type) is { } element && SymbolEqualityComparer.Default.Equals(StripNullable(element), entityType))
                {
                    collectionIndex = i;
                    entityCount++;
                }
            }

            var display = KnownNames.DisplayName(draft.Strategy);
            if (entityCount > 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoKeySource, method, method.Name, display,
                    "it takes several parameters of the entity type",
                    "Take exactly one entity or one collection of entities."));
                return (KeySourceKind.None, EquatableArray<int>.Empty, false, null);
            }

            var allowsKeys = draft.Strategy == Strategy.Cached || draft.Strategy == Strategy.WriteAround || draft.Strategy == Strategy.Evict;
            var allowsEntity = draft.Strategy != Strategy.Cached;
            var allowsCollection = draft.Strategy == Strategy.WriteThrough || draft.Strategy == Strategy.WriteAround || draft.Strategy == Strategy.Evict;

            if (draft.Strategy == Strategy.WriteBack && valueParameters.Count > MaximumWriteBackArguments)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoKeySource, method, method.Name, display,
                    "it takes more than " + MaximumWriteBackArguments.ToString(CultureInfo.InvariantCulture) + " arguments besides the cancellation token",
                    "A write-back record holds at most " + MaximumWriteBackArguments.ToString(CultureInfo.InvariantCulture) + " arguments: group the extra ones into the entity or a parameter object."));
                return (KeySourceKind.None, EquatableArray<int>.Empty, false, null);
            }

            if (allowsEntity && entityIndex >= 0)
            {
                return (KeySourceKind.Entity, new EquatableArray<int>(new[] { entityIndex }), false, null);
            }

            if (collectionIndex >= 0)
            {
                if (allowsCollection)
                {
                    var parameterType = method.Parameters[collectionIndex].Type;
                    return (KeySourceKind.EntityCollection, new EquatableArray<int>(new[] { collectionIndex }), !IsReadOnlyList(parameterType), TypeNames.GlobalWithoutNullable(entityType));
                }

                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoKeySource, method, method.Name, display,
                    "it takes a collection of entities",
                    "Write-back of a collection is not supported: call the method once per entity, or use [WriteThrough] or [WriteAround] for bulk writes."));
                return (KeySourceKind.None, EquatableArray<int>.Empty, false, null);
            }

            if (allowsKeys)
            {
                if (KeyParametersMatch(method, valueParameters, entityType, entity))
                {
                    return (KeySourceKind.KeyParameters, valueParameters.ToEquatableArray(), false, null);
                }

                if (draft.Strategy != Strategy.Cached && entity.KeyParts.Count == 1 && valueParameters.Count == 1)
                {
                    var parameterType = method.Parameters[valueParameters[0]].Type;
                    if (ElementTypeOf(parameterType) is { } element && SymbolEqualityComparer.Default.Equals(element, KeyMemberType(entityType, entity.KeyParts[0].MemberName)))
                    {
                        return (KeySourceKind.KeyCollection, valueParameters.ToEquatableArray(), !IsReadOnlyList(parameterType), TypeNames.GlobalWithoutNullable(element));
                    }
                }

                var keyTypes = new List<string>();
                foreach (var part in entity.KeyParts)
                {
                    keyTypes.Add(KeyMemberType(entityType, part.MemberName)?.ToDisplayString() + " " + part.MemberName);
                }

                var given = new List<string>();
                foreach (var index in valueParameters)
                {
                    given.Add(method.Parameters[index].Type.ToDisplayString() + " " + method.Parameters[index].Name);
                }

                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.KeyParametersMismatch, method, method.Name,
                    string.Join(", ", keyTypes), string.Join(", ", given), entityType.ToDisplayString()));
                return (KeySourceKind.None, EquatableArray<int>.Empty, false, null);
            }

            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoKeySource, method, method.Name, display,
                "it has no parameter of the entity type '" + entityType.ToDisplayString() + "'",
                draft.Strategy == Strategy.WriteBack
                    ? "Pass the entity as it will be after the write; write-back stores it in the cache."
                    : "Pass the entity (write-through stores it in the cache), or use [WriteAround] or [Evict], which only need its key."));
            return (KeySourceKind.None, EquatableArray<int>.Empty, false, null);
        }

        private static bool KeyParametersMatch(IMethodSymbol method, List<int> valueParameters, ITypeSymbol entityType, EntityModel entity)
        {
            if (valueParameters.Count != entity.KeyParts.Count || valueParameters.Count == 0)
            {
                return false;
            }

            for (var i = 0; i < valueParameters.Count; i++)
            {
                var expected = KeyMemberType(entityType, entity.KeyParts[i].MemberName);
                if (expected is null || !SymbolEqualityComparer.Default.Equals(method.Parameters[valueParameters[i]].Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated), expected.WithNullableAnnotation(NullableAnnotation.NotAnnotated)))
                {
                    return false;
                }
            }

            return true;
        }

        private static (string?, KeyEncoding, string?) ResolveIdempotency(MethodDraft draft, ITypeSymbol entityType, List<DiagnosticInfo> diagnostics)
        {
            var name = ReadString(draft.Attribute, "IdempotencyKey");
            if (name is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WriteBackWithoutIdempotencyKey, draft.Symbol, draft.Symbol.Name, entityType.ToDisplayString()));
                return (null, KeyEncoding.Direct, null);
            }

            var member = FindReadableMember(entityType, name);
            string? problem = null;
            ITypeSymbol? memberType = null;
            if (member is null)
            {
                problem = "'" + entityType.ToDisplayString() + "' has no member named '" + name + "'";
            }
            else if (!IsReadable(member))
            {
                problem = "'" + name + "' is not a public or internal readable property or field";
            }
            else
            {
                memberType = TypeOf(member);
                if (!TryKeyEncoding(memberType, out _, out _))
                {
                    problem = "'" + name + "' has type '" + memberType.ToDisplayString() + "', which cannot form a stable key";
                }
            }

            if (problem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidIdempotencyKey, LocationInfo.From(AttributeLocation(draft.Attribute) ?? draft.Symbol.Locations[0]),
                    name, draft.Symbol.Name, problem, entityType.ToDisplayString()));
                return (null, KeyEncoding.Direct, null);
            }

            TryKeyEncoding(memberType!, out var encoding, out var cast);
            return (name, encoding, cast);
        }

        private static EntityModel? ParseEntity(ITypeSymbol entityType, IMethodSymbol usedBy, List<ISymbol> keyMembers, List<DiagnosticInfo> diagnostics)
        {
            var parts = new List<KeyPartModel>();
            var ok = true;
            foreach (var member in keyMembers)
            {
                var type = TypeOf(member);
                if (!IsReadable(member) || !TryKeyEncoding(type, out var encoding, out var cast))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedKeyType, member, member.Name, entityType.ToDisplayString(),
                        IsReadable(member) ? type.ToDisplayString() : type.ToDisplayString() + " (not readable from generated code)"));
                    ok = false;
                    continue;
                }

                parts.Add(new KeyPartModel(member.Name, encoding, cast));
            }

            ok &= TryParseVersion(entityType, keyMembers, diagnostics, out var version);
            if (parts.Count == 0 && ok)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EntityWithoutKey, usedBy, entityType.ToDisplayString(), usedBy.Name));
                return null;
            }

            return ok ? new EntityModel(TypeNames.GlobalWithoutNullable(entityType), entityType.IsReferenceType, parts.ToEquatableArray()) { Version = version } : null;
        }

        /// <summary>
        /// The entity's [CacheVersion] member, if it has one. False (with CGEN031 on every member at fault) when the
        /// marked members cannot give a version: several of them would leave the runtime to guess which one orders
        /// the rows.
        /// </summary>
        private static bool TryParseVersion(ITypeSymbol entityType, List<ISymbol> keyMembers, List<DiagnosticInfo> diagnostics, out VersionModel? version)
        {
            version = null;
            var members = VersionMembers(entityType);
            if (members.Count == 0)
            {
                return true;
            }

            if (members.Count > 1)
            {
                var names = new List<string>();
                foreach (var member in members)
                {
                    names.Add(member.Name);
                }

                var problem = "'" + entityType.ToDisplayString() + "' has " + members.Count.ToString(CultureInfo.InvariantCulture)
                    + " [CacheVersion] members (" + string.Join(", ", names) + "), and a row has one version";
                foreach (var member in members)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidCacheVersion, member, member.Name, entityType.ToDisplayString(), problem));
                }

                return false;
            }

            var versionMember = members[0];
            var type = TypeOf(versionMember);
            var conversion = VersionConversion.Widen;
            var reason = keyMembers.Exists(key => key.Name == versionMember.Name)
                ? "it is also a [CacheKey] member, and the key names the row, so it must stay the same while the version grows with every write (a write would move the entity to a new key and leave the old entry cached)"
                : !IsReadable(versionMember)
                ? "it is not readable from generated code (make it public or internal, with a public or internal getter)"
                : TryVersionConversion(type, out conversion) ? null : UnsupportedVersionType(type);
            if (reason is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidCacheVersion, versionMember, versionMember.Name, entityType.ToDisplayString(), reason));
                return false;
            }

            version = new VersionModel(versionMember.Name, conversion);
            return true;
        }

        /// <summary>
        /// How a [CacheVersion] value of <paramref name="type"/> becomes a long; false when no conversion keeps its
        /// order. The integer types narrower than 32 bits are refused: such a counter wraps around after a few hundred
        /// or tens of thousands of changes of the row, and every write after the wrap would look older than the cached one.
        /// </summary>
        private static bool TryVersionConversion(ITypeSymbol type, out VersionConversion conversion)
        {
            conversion = VersionConversion.Widen;
            switch (type.SpecialType)
            {
                case SpecialType.System_Int32:
                case SpecialType.System_UInt32:
                case SpecialType.System_Int64:
                    return true;
                case SpecialType.System_DateTime:
                    conversion = VersionConversion.Ticks;
                    return true;
            }

            if (type is INamedTypeSymbol { Name: "DateTimeOffset", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } })
            {
                conversion = VersionConversion.UtcTicks;
                return true;
            }

            return false;
        }

        private static string UnsupportedVersionType(ITypeSymbol type)
        {
            var display = type.ToDisplayString();
            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T })
            {
                return "its type '" + display + "' is nullable, and every row has a version";
            }

            if (type.SpecialType == SpecialType.System_UInt64)
            {
                return "its type 'ulong' holds values above long.MaxValue, which would compare as older";
            }

            var wrapsAfter = WrapsAfter(type.SpecialType);
            if (wrapsAfter is not null)
            {
                return "its type '" + display + "' wraps around after " + wrapsAfter
                    + " changes, and a version that wraps makes every later write look older than the cached one; use long (or int)";
            }

            return type.TypeKind == TypeKind.Enum
                ? "its type '" + display + "' is an enum, which names states rather than counting changes"
                : "its type '" + display + "' is not a number or a timestamp that orders the row's changes";
        }

        /// <summary>
        /// For an integer type narrower than 32 bits, how many changes of a counter that starts at 0 take it past its
        /// largest value (where it wraps to its smallest); null for every other type.
        /// </summary>
        private static string? WrapsAfter(SpecialType type)
        {
            switch (type)
            {
                case SpecialType.System_SByte: return "128";
                case SpecialType.System_Byte: return "256";
                case SpecialType.System_Int16: return "32,768";
                case SpecialType.System_UInt16: return "65,536";
                default: return null;
            }
        }

        /// <summary>The [CacheKey] members of a type, base types first, in declaration order; record parameters marked without the property: target count too.</summary>
        internal static List<ISymbol> KeyMembers(ITypeSymbol type) => MarkedMembers(type, KnownNames.CacheKey);

        /// <summary>The [CacheVersion] members of a type, found like <see cref="KeyMembers"/>: one is valid, more are CGEN031.</summary>
        internal static List<ISymbol> VersionMembers(ITypeSymbol type) => MarkedMembers(type, KnownNames.CacheVersion);

        /// <summary>The instance properties and fields of a type that carry the CachingGen attribute <paramref name="attributeName"/>, base types first, in declaration order; record parameters marked without the property: target count too.</summary>
        private static List<ISymbol> MarkedMembers(ITypeSymbol type, string attributeName)
        {
            var chain = new List<ITypeSymbol>();
            for (var current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
            {
                chain.Insert(0, current);
            }

            var result = new List<ISymbol>();
            foreach (var current in chain)
            {
                var fromParameters = new HashSet<string>();
                if (current is INamedTypeSymbol { IsRecord: true } record)
                {
                    foreach (var constructor in record.InstanceConstructors)
                    {
                        foreach (var parameter in constructor.Parameters)
                        {
                            if (FindAttribute(parameter, attributeName) is not null)
                            {
                                fromParameters.Add(parameter.Name);
                            }
                        }
                    }
                }

                foreach (var member in current.GetMembers())
                {
                    if (member.IsStatic || (member is not IPropertySymbol && member is not IFieldSymbol) || member.IsImplicitlyDeclared)
                    {
                        continue;
                    }

                    if (member is IPropertySymbol { IsIndexer: true })
                    {
                        continue;
                    }

                    if (FindAttribute(member, attributeName) is not null || fromParameters.Contains(member.Name))
                    {
                        result.Add(member);
                    }
                }
            }

            return result;
        }

        private static bool HasKeyMembers(ITypeSymbol type, Dictionary<ITypeSymbol, List<ISymbol>> keyMembers)
            => type.TypeKind != TypeKind.Error && type.SpecialType == SpecialType.None && KeyMembersOf(type, keyMembers).Count > 0;

        /// <summary><see cref="KeyMembers"/>, once per type and interface: every method that reads or writes the entity asks.</summary>
        private static List<ISymbol> KeyMembersOf(ITypeSymbol type, Dictionary<ITypeSymbol, List<ISymbol>> keyMembers)
        {
            if (!keyMembers.TryGetValue(type, out var members))
            {
                members = KeyMembers(type);
                keyMembers.Add(type, members);
            }

            return members;
        }

        private static bool LooksLikeEntity(ITypeSymbol type)
            => (type.TypeKind == TypeKind.Class || type.TypeKind == TypeKind.Struct)
               && type.SpecialType == SpecialType.None
               && ElementTypeOf(type) is null
               && type.ContainingNamespace is { } ns
               && SymbolFacts.RootNamespaceName(ns) != "System";

        private static ITypeSymbol? KeyMemberType(ITypeSymbol entityType, string memberName)
            => FindReadableMember(entityType, memberName) is { } member ? TypeOf(member) : null;

        /// <summary>The type of a property or field (the only members keys, versions and idempotency keys come from).</summary>
        private static ITypeSymbol TypeOf(ISymbol member)
            => member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;

        internal static ISymbol? FindReadableMember(ITypeSymbol type, string name)
        {
            for (var current = type; current is not null; current = current.BaseType)
            {
                foreach (var member in current.GetMembers(name))
                {
                    if (!member.IsStatic && (member is IFieldSymbol || member is IPropertySymbol { IsIndexer: false }))
                    {
                        return member;
                    }
                }
            }

            return null;
        }

        internal static bool IsReadable(ISymbol member)
        {
            static bool Visible(Accessibility accessibility)
                => accessibility == Accessibility.Public || accessibility == Accessibility.Internal || accessibility == Accessibility.ProtectedOrInternal;

            return member switch
            {
                IPropertySymbol property => property.GetMethod is { } getter && Visible(property.DeclaredAccessibility) && Visible(getter.DeclaredAccessibility),
                IFieldSymbol field => Visible(field.DeclaredAccessibility),
                _ => false,
            };
        }

        /// <summary>How <c>CacheKey</c> encodes a value of <paramref name="type"/>; false when it cannot.</summary>
        internal static bool TryKeyEncoding(ITypeSymbol type, out KeyEncoding encoding, out string cast)
        {
            cast = string.Empty;
            encoding = KeyEncoding.Direct;
            if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
            {
                return TryKeyEncoding(underlying, out encoding, out cast);
            }

            switch (type.SpecialType)
            {
                case SpecialType.System_SByte:
                case SpecialType.System_Int16:
                case SpecialType.System_Int32:
                case SpecialType.System_Int64:
                    encoding = KeyEncoding.Signed;
                    cast = "long";
                    return true;
                case SpecialType.System_Byte:
                case SpecialType.System_UInt16:
                case SpecialType.System_UInt32:
                case SpecialType.System_UInt64:
                    encoding = KeyEncoding.Unsigned;
                    cast = "ulong";
                    return true;
                case SpecialType.System_String:
                case SpecialType.System_Char:
                case SpecialType.System_Boolean:
                    return true;
            }

            return type is INamedTypeSymbol { Name: "Guid", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } };
        }

        private static (ReturnKind, ITypeSymbol?) ClassifyReturn(ITypeSymbol returnType)
        {
            if (!SymbolFacts.IsTaskLike(returnType, out var isValueTask, out var result))
            {
                return (ReturnKind.Other, null);
            }

            return result is null
                ? (isValueTask ? ReturnKind.ValueTask : ReturnKind.Task, null)
                : (isValueTask ? ReturnKind.ValueTaskOfT : ReturnKind.TaskOfT, result);
        }

        /// <summary>The element type of the collection shapes bulk writes accept, else null.</summary>
        internal static ITypeSymbol? ElementTypeOf(ITypeSymbol type)
        {
            if (type is IArrayTypeSymbol { Rank: 1 } array)
            {
                return array.ElementType;
            }

            if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named
                && SymbolFacts.IsNamespace(named.ContainingNamespace, "Generic", "System.Collections"))
            {
                switch (named.Name)
                {
                    case "IEnumerable":
                    case "IReadOnlyList":
                    case "IReadOnlyCollection":
                    case "IList":
                    case "ICollection":
                    case "List":
                        return named.TypeArguments[0];
                }
            }

            return null;
        }

        private static bool IsReadOnlyList(ITypeSymbol type)
            => type is IArrayTypeSymbol || (type is INamedTypeSymbol named && (named.Name == "IReadOnlyList" || named.Name == "List"));

        private static bool IsNullableValueType(ITypeSymbol type)
            => type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };

        internal static ITypeSymbol StripNullable(ITypeSymbol type)
        {
            if (IsNullableValueType(type))
            {
                return ((INamedTypeSymbol)type).TypeArguments[0];
            }

            return type.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
        }

        /// <summary>Whether the attribute class is one of CachingGen's own.</summary>
        internal static bool IsOurs(INamedTypeSymbol attributeClass)
            => SymbolFacts.IsNamespace(attributeClass.ContainingNamespace, KnownNames.Namespace, null);

        /// <summary>The CachingGen attribute named <paramref name="name"/> on <paramref name="symbol"/>, if any.</summary>
        internal static AttributeData? FindAttribute(ISymbol symbol, string name)
            => SymbolFacts.FindAttribute(symbol, name, KnownNames.Namespace, null);

        internal static Location? AttributeLocation(AttributeData? attribute)
            => attribute?.ApplicationSyntaxReference?.GetSyntax().GetLocation();

        private static TypedConstant? Named(AttributeData? attribute, string name)
        {
            if (attribute is null)
            {
                return null;
            }

            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == name && argument.Value.Kind != TypedConstantKind.Error)
                {
                    return argument.Value;
                }
            }

            return null;
        }

        private static int? ReadInt(AttributeData? attribute, string name)
            => Named(attribute, name) is { Value: int value } ? value : null;

        private static bool? ReadBool(AttributeData? attribute, string name)
            => Named(attribute, name) is { Value: bool value } ? value : null;

        internal static string? ReadString(AttributeData? attribute, string name)
            => Named(attribute, name) is { Value: string value } ? value : null;

        private static int ReadTtl(MethodDraft draft, string name, int defaultValue, bool positive, List<DiagnosticInfo> diagnostics)
        {
            var value = ReadInt(draft.Attribute, name);
            if (value is null)
            {
                return defaultValue;
            }

            if ((positive ? value <= 0 : value < 0) || value > MaximumTtlSeconds)
            {
                diagnostics.Add(TtlDiagnostic(draft.Symbol, name, value.Value, AttributeLocation(draft.Attribute)));
                return defaultValue;
            }

            if (value > LongTtlSeconds)
            {
                diagnostics.Add(LongTtlDiagnostic(draft.Symbol, name, value.Value, AttributeLocation(draft.Attribute)));
            }

            return value.Value;
        }

        private static DiagnosticInfo TtlDiagnostic(ISymbol symbol, string name, int value, Location? location = null)
        {
            var reason = value > MaximumTtlSeconds
                ? "it is more than a year; a cached entry that old is a bug waiting to happen. Use at most " + MaximumTtlSeconds.ToString(CultureInfo.InvariantCulture) + " seconds."
                : name == "NullTtl"
                    ? "it must be 0 (never cache \"not found\") or a positive number of seconds."
                    : "it must be a positive number of seconds.";
            return DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTtl, LocationInfo.From(location ?? (symbol.Locations.Length > 0 ? symbol.Locations[0] : null)),
                name, value.ToString(CultureInfo.InvariantCulture), symbol.Name, reason);
        }

        private static DiagnosticInfo LongTtlDiagnostic(ISymbol symbol, string name, int value, Location? location)
            => DiagnosticInfo.Create(DiagnosticDescriptors.VeryLongTtl, LocationInfo.From(location ?? (symbol.Locations.Length > 0 ? symbol.Locations[0] : null)),
                name, value.ToString(CultureInfo.InvariantCulture), symbol.Name, (value / (24.0 * 3600)).ToString("0.#", CultureInfo.InvariantCulture));

        /// <summary>
        /// CGEN022 and CGEN025, for a repository without errors: advice about how its methods' strategies interact on
        /// the one key space they share.
        /// </summary>
        private static void AddStrategyMixAdvice(INamedTypeSymbol repository, string keyPrefix, List<(MethodDraft Draft, MemberModel Member)> methods, List<DiagnosticInfo> diagnostics)
        {
            var writeBack = new List<string>();
            var direct = new List<string>();
            var longestTtl = 0;
            string? longestTtlMethod = null;
            foreach (var (_, member) in methods)
            {
                switch (member.Strategy)
                {
                    case Strategy.WriteBack:
                        writeBack.Add(member.Name);
                        break;
                    case Strategy.WriteThrough:
                    case Strategy.WriteAround:
                    case Strategy.Evict:
                        direct.Add(member.Name);
                        break;
                }

                if (member.Strategy != Strategy.PassThrough && member.Strategy != Strategy.Evict && member.TtlSeconds > longestTtl)
                {
                    longestTtl = member.TtlSeconds;
                    longestTtlMethod = member.Name;
                }
            }

            if (writeBack.Count > 0 && direct.Count > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MixedWriteStrategies, repository, repository.Name, keyPrefix,
                    string.Join(", ", writeBack), string.Join(", ", direct)));
            }

            if (longestTtl <= StaleWindowSeconds || longestTtlMethod is null)
            {
                return;
            }

            foreach (var (draft, member) in methods)
            {
                if (member.Strategy == Strategy.WriteAround && !member.Invalidate)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StaleWriteAround,
                        LocationInfo.From(AttributeLocation(draft.Attribute) ?? draft.Symbol.Locations[0]),
                        member.Name, longestTtl.ToString(CultureInfo.InvariantCulture), repository.Name, longestTtlMethod));
                }
            }
        }

        /// <summary>CGEN024: write-back arguments whose state can change after the record snapshotted it.</summary>
        private static void ReportMutableArguments(IMethodSymbol method, List<DiagnosticInfo> diagnostics)
        {
            foreach (var parameter in method.Parameters)
            {
                if (SymbolFacts.IsCancellationToken(parameter.Type))
                {
                    continue;
                }

                var type = StripNullable(parameter.Type);
                string? problem = null;
                if (SymbolFacts.IsMutableCollection(type))
                {
                    problem = "is a '" + type.ToDisplayString() + "', a mutable collection";
                }
                else if (LooksLikeEntity(type) && MutableCollectionMember(type) is { } member)
                {
                    problem = "has type '" + type.ToDisplayString() + "', whose member '" + member.Name + "' is a mutable collection ('" + member.Type.ToDisplayString() + "')";
                }

                if (problem is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MutableWriteBackArgument, parameter, parameter.Name, method.Name, problem));
                }
            }
        }

        /// <summary>The first public instance property or field (base types first) whose type is a mutable collection.</summary>
        private static (string Name, ITypeSymbol Type)? MutableCollectionMember(ITypeSymbol type)
        {
            var chain = new List<ITypeSymbol>();
            for (var current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
            {
                chain.Insert(0, current);
            }

            foreach (var current in chain)
            {
                foreach (var member in current.GetMembers())
                {
                    if (member.IsStatic || member.DeclaredAccessibility != Accessibility.Public)
                    {
                        continue;
                    }

                    var memberType = member switch
                    {
                        IPropertySymbol { IsIndexer: false } property => property.Type,
                        IFieldSymbol field => field.Type,
                        _ => null,
                    };
                    if (memberType is not null && SymbolFacts.IsMutableCollection(StripNullable(memberType)))
                    {
                        return (member.Name, memberType);
                    }
                }
            }

            return null;
        }

        private static MemberModel PassThroughProperty(IPropertySymbol property, INamedTypeSymbol declaringInterface, bool explicitImplementation)
        {
            var parameters = new List<ParameterModel>();
            foreach (var parameter in property.Parameters)
            {
                parameters.Add(new ParameterModel(parameter.Name, TypeNames.Global(parameter.Type), RefKindText(parameter.RefKind), false, parameter.IsParams, null));
            }

            return PassThrough(MemberKind.Property, property.IsIndexer ? "this" : property.Name, declaringInterface, explicitImplementation || property.IsIndexer && explicitImplementation,
                TypeNames.Global(property.Type), parameters, property.GetMethod is not null, property.SetMethod is not null, property.IsIndexer);
        }

        private static MemberModel PassThroughEvent(IEventSymbol @event, INamedTypeSymbol declaringInterface, bool explicitImplementation)
            => PassThrough(MemberKind.Event, @event.Name, declaringInterface, explicitImplementation, TypeNames.Global(@event.Type), new List<ParameterModel>(), true, true, false);

        private static MemberModel PassThrough(MemberKind kind, string name, INamedTypeSymbol declaringInterface, bool explicitImplementation, string type, List<ParameterModel> parameters, bool getter, bool setter, bool indexer)
            => new MemberModel(kind, name, TypeNames.GlobalWithoutNullable(declaringInterface), explicitImplementation, type, ReturnKind.Other, null, false,
                parameters.ToEquatableArray(), string.Empty, Strategy.PassThrough, 0, 0, true, KeySourceKind.None, EquatableArray<int>.Empty, false, null, null,
                KeyEncoding.Direct, null, name, getter, setter, indexer);

        private static string RefKindText(RefKind refKind)
        {
            switch (refKind)
            {
                case RefKind.Ref: return "ref ";
                case RefKind.Out: return "out ";
                case RefKind.In: return "in ";
                default: return string.Empty;
            }
        }

        private static string? DefaultValueText(IParameterSymbol parameter)
        {
            if (IsDefaultLiteralWithoutConstant(parameter))
            {
                return "default";
            }

            if (!parameter.HasExplicitDefaultValue)
            {
                return null;
            }

            var value = parameter.ExplicitDefaultValue;
            var type = parameter.Type;
            if (value is null)
            {
                return "default";
            }

            if (type.TypeKind == TypeKind.Enum)
            {
                return "(" + TypeNames.GlobalWithoutNullable(type) + ")" + FormatPrimitive(value);
            }

            return value switch
            {
                string text => SymbolDisplay.FormatLiteral(text, quote: true),
                char character => SymbolDisplay.FormatLiteral(character, quote: true),
                bool flag => flag ? "true" : "false",
                float single => single.ToString("R", CultureInfo.InvariantCulture) + "F",
                double number => number.ToString("R", CultureInfo.InvariantCulture) + "D",
                decimal money => money.ToString(CultureInfo.InvariantCulture) + "M",
                _ => "(" + TypeNames.Global(type) + ")" + FormatPrimitive(value),
            };
        }

        /// <summary>
        /// Whether the declaration says <c>= default</c> (or <c>= null</c> for a reference type) and the type is one
        /// whose default has no constant form of its own (a struct, class or interface other than the special types,
        /// enums and type parameters), so its value is null, which <see cref="DefaultValueText"/> writes as
        /// <c>default</c>. Read from the syntax because asking the symbol binds the value and runs nullable analysis
        /// on it, on every compilation, for the <c>CancellationToken ct = default</c> of nearly every method.
        /// </summary>
        private static bool IsDefaultLiteralWithoutConstant(IParameterSymbol parameter)
        {
            var references = parameter.DeclaringSyntaxReferences;
            if (references.Length != 1
                || references[0].GetSyntax() is not ParameterSyntax { Default.Value: LiteralExpressionSyntax literal })
            {
                return false;
            }

            var type = parameter.Type;
            if (type.SpecialType != SpecialType.None)
            {
                return false;
            }

            switch (type.TypeKind)
            {
                case TypeKind.Struct:
                    return literal.IsKind(SyntaxKind.DefaultLiteralExpression);
                case TypeKind.Class:
                case TypeKind.Interface:
                    return literal.IsKind(SyntaxKind.DefaultLiteralExpression) || literal.IsKind(SyntaxKind.NullLiteralExpression);
                default:
                    return false;
            }
        }

        private static string FormatPrimitive(object value)
            => System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? "0";

        private static bool IsAccessibleFromNamespace(INamedTypeSymbol type)
        {
            for (ISymbol? current = type; current is INamedTypeSymbol named; current = named.ContainingType)
            {
                switch (named.DeclaredAccessibility)
                {
                    case Accessibility.Public:
                    case Accessibility.Internal:
                    case Accessibility.ProtectedOrInternal:
                        continue;
                    default:
                        return false;
                }
            }

            return true;
        }

        private static bool IsEffectivelyPublic(INamedTypeSymbol type)
        {
            for (ISymbol? current = type; current is INamedTypeSymbol named; current = named.ContainingType)
            {
                if (named.DeclaredAccessibility != Accessibility.Public)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
