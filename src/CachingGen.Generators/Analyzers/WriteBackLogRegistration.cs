using CachingGen.Generators.Common;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace CachingGen.Generators.Analyzers
{
    /// <summary>
    /// CGEN027: a repository with write-back methods registered on a <c>CachingGenBuilder</c> in a method body that
    /// calls <c>AddCachingGen</c> and never chooses the write-back log. It stays silent whenever the choice may be
    /// made where it cannot see: a known log registration (<see cref="KnownNames.WriteBackLogChoices"/>), any mention
    /// of <c>IWriteBackLog</c> or <c>AllowNonDurableWriteBack</c>, or the builder handed to another method. The
    /// runtime refuses to start in the cases this misses.
    /// </summary>
    internal static class WriteBackLogRegistration
    {
        public static void Analyze(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            if (!TakesBuilder(invocation) || WriteBackRepositoryOf(invocation.TargetMethod) is not { } repository)
            {
                return;
            }

            IOperation top = invocation;
            while (top.Parent is not null)
            {
                top = top.Parent;
            }

            var startsRegistration = false;
            foreach (var operation in top.DescendantsAndSelf())
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                switch (operation)
                {
                    case IInvocationOperation call:
                        var method = call.TargetMethod;
                        if (method.Name == KnownNames.AddCachingGen && IsBuilder(method.ReturnType))
                        {
                            startsRegistration = true;
                        }

                        if (System.Array.IndexOf(KnownNames.WriteBackLogChoices, method.Name) >= 0 || MentionsWriteBackLog(method))
                        {
                            return;
                        }

                        // The builder handed to a method of the application (not a repository registration) may choose the log there.
                        if (TakesBuilder(call) && !IsCachingGenRuntimeMethod(method) && WriteBackRepositoryOf(method) is null && !RegistersRepository(method))
                        {
                            return;
                        }

                        break;
                    case IPropertyReferenceOperation property when property.Property.Name == KnownNames.AllowNonDurableWriteBack:
                        return;
                    case IObjectCreationOperation creation when creation.Type is { } created && IsWriteBackLog(created):
                        return;
                    case ITypeOfOperation typeOf when IsWriteBackLog(typeOf.TypeOperand):
                        return;
                }
            }

            if (!startsRegistration)
            {
                return;
            }

            var syntax = invocation.Syntax;
            var location = syntax is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access }
                ? access.Name.GetLocation()
                : syntax.GetLocation();
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.WriteBackWithoutDurableLog, location,
                invocation.TargetMethod.Name, repository.ToDisplayString(), KnownNames.DurableLogRegistration));
        }

        /// <summary>Whether the call's receiver (instance or extension <c>this</c>) or an argument is a CachingGenBuilder.</summary>
        private static bool TakesBuilder(IInvocationOperation invocation)
        {
            if (invocation.Instance?.Type is { } instance && IsBuilder(instance))
            {
                return true;
            }

            foreach (var argument in invocation.Arguments)
            {
                if (argument.Parameter?.Type is { } type && IsBuilder(type))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsBuilder(ITypeSymbol type)
            => type.Name == KnownNames.BuilderName && SymbolFacts.IsNamespace(type.ContainingNamespace, KnownNames.Namespace, null);

        private static bool IsCachingGenRuntimeMethod(IMethodSymbol method)
            => method.ContainingType is { } type && (IsBuilder(type) || type.Name == "CachingGenServiceCollectionExtensions");

        private static bool IsWriteBackLog(ITypeSymbol type)
        {
            if (IsWriteBackLogInterface(type))
            {
                return true;
            }

            foreach (var implemented in type.AllInterfaces)
            {
                if (IsWriteBackLogInterface(implemented))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsWriteBackLogInterface(ITypeSymbol type)
            => type.Name == KnownNames.WriteBackLogInterface && SymbolFacts.IsNamespace(type.ContainingNamespace, "WriteBack", KnownNames.Namespace);

        private static bool MentionsWriteBackLog(IMethodSymbol method)
        {
            foreach (var typeArgument in method.TypeArguments)
            {
                if (IsWriteBackLog(typeArgument))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Whether a type argument (or a constraint of one) is a [CachedRepository] interface.</summary>
        private static bool RegistersRepository(IMethodSymbol method)
        {
            foreach (var candidate in RepositoryCandidates(method))
            {
                if (RepositoryParser.FindAttribute(candidate, KnownNames.CachedRepository) is not null)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The [CachedRepository] interface with [WriteBack] methods that <paramref name="method"/> registers, if any.</summary>
        private static INamedTypeSymbol? WriteBackRepositoryOf(IMethodSymbol method)
        {
            foreach (var candidate in RepositoryCandidates(method))
            {
                if (RepositoryParser.FindAttribute(candidate, KnownNames.CachedRepository) is not null && HasWriteBackMethod(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        /// <summary>
        /// The interfaces a registration names: type arguments that are interfaces (<c>AddRepository&lt;TRepository, TInner&gt;</c>)
        /// and interface constraints of its type parameters (the generated <c>AddCached{Name}&lt;TInner&gt;</c> has
        /// <c>where TInner : class, IRepository</c>). The interfaces a class argument happens to implement do not count:
        /// one database class may serve several repositories.
        /// </summary>
        private static System.Collections.Generic.IEnumerable<INamedTypeSymbol> RepositoryCandidates(IMethodSymbol method)
        {
            foreach (var typeArgument in method.TypeArguments)
            {
                if (typeArgument is INamedTypeSymbol { TypeKind: TypeKind.Interface } named)
                {
                    yield return named;
                }
            }

            foreach (var typeParameter in method.OriginalDefinition.TypeParameters)
            {
                foreach (var constraint in typeParameter.ConstraintTypes)
                {
                    if (constraint is INamedTypeSymbol { TypeKind: TypeKind.Interface } named)
                    {
                        yield return named;
                    }
                }
            }
        }

        private static bool HasWriteBackMethod(INamedTypeSymbol repository)
        {
            if (HasOwnWriteBackMethod(repository))
            {
                return true;
            }

            foreach (var baseInterface in repository.AllInterfaces)
            {
                if (HasOwnWriteBackMethod(baseInterface))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool HasOwnWriteBackMethod(INamedTypeSymbol type)
        {
            foreach (var member in type.GetMembers())
            {
                if (member is IMethodSymbol method && RepositoryParser.FindAttribute(method, KnownNames.WriteBack) is not null)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
