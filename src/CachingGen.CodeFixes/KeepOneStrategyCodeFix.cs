using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>CGEN007: keep one of the method's strategy attributes and remove the others, one action per strategy.</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KeepOneStrategyCodeFix)), Shared]
    public sealed class KeepOneStrategyCodeFix : CachingGenCodeFix
    {
        /// <summary>The prefix of every equivalence key of this fix; the kept strategy follows.</summary>
        public const string EquivalenceKeyPrefix = "CGEN007.Keep.";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN007");

        private protected override void RegisterFixes(CodeFixContext context, Diagnostic diagnostic, SyntaxNode root, SemanticModel model)
        {
            var method = MethodAt(root, diagnostic);
            if (method is null)
            {
                return;
            }

            var strategies = AttributeEdits.StrategyAttributes(method, model, context.CancellationToken);
            if (strategies.Count < 2)
            {
                return;
            }

            foreach (var (kept, strategy) in strategies)
            {
                var removed = new HashSet<AttributeSyntax>(strategies.Where(s => s.Attribute != kept).Select(s => s.Attribute));
                var name = KnownNames.DisplayName(strategy);
                RegisterReplacement(context, diagnostic, "Keep only [" + name + "]", EquivalenceKeyPrefix + name,
                    method, () => AttributeEdits.WithoutAttributes(method, removed));
            }
        }
    }
}
