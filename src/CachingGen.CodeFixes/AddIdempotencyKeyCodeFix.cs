using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>
    /// CGEN013: sets <c>IdempotencyKey = nameof(Entity.Member)</c> on a <c>[WriteBack]</c> method, one action per
    /// version-like member of the entity (first) and per id-like member. Fix All applies the chosen member name to
    /// every method whose entity has it.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddIdempotencyKeyCodeFix)), Shared]
    public sealed class AddIdempotencyKeyCodeFix : CachingGenCodeFix
    {
        /// <summary>The prefix of every equivalence key of this fix; the member name follows.</summary>
        public const string EquivalenceKeyPrefix = "CGEN013.IdempotencyKey.";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN013");

        private protected override void RegisterFixes(CodeFixContext context, Diagnostic diagnostic, SyntaxNode root, SemanticModel model)
        {
            var method = MethodAt(root, diagnostic);
            if (method is null || model.GetDeclaredSymbol(method, context.CancellationToken) is not IMethodSymbol symbol)
            {
                return;
            }

            var writeBack = AttributeEdits.StrategyAttributes(method, model, context.CancellationToken)
                .FirstOrDefault(a => a.Strategy == Strategy.WriteBack).Attribute;
            if (writeBack is null || EntityOf(symbol) is not { } entity)
            {
                return;
            }

            var entityName = entity.ToMinimalDisplayString(model, method.SpanStart);
            foreach (var member in IdempotencyCandidates.For(entity))
            {
                var value = "nameof(" + entityName + "." + member + ")";
                RegisterReplacement(context, diagnostic, "Use '" + member + "' as the idempotency key", EquivalenceKeyPrefix + member,
                    writeBack, () => AttributeEdits.WithNamedArgument(writeBack, "IdempotencyKey", value));
            }
        }

        /// <summary>The written entity: the first parameter whose type has [CacheKey] members.</summary>
        private static ITypeSymbol? EntityOf(IMethodSymbol method)
        {
            foreach (var parameter in method.Parameters)
            {
                var type = RepositoryParser.StripNullable(parameter.Type);
                if (RepositoryParser.KeyMembers(type).Count > 0)
                {
                    return type;
                }
            }

            return null;
        }
    }
}
