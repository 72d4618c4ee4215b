using System.Composition;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>CGEN025: removes <c>Invalidate = false</c>, so the write-around invalidates the entry it writes (the default).</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InvalidateOnWriteAroundCodeFix)), Shared]
    public sealed class InvalidateOnWriteAroundCodeFix : CachingGenCodeFix
    {
        /// <summary>Equivalence key of the action.</summary>
        public const string EquivalenceKey = "CGEN025.Invalidate";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN025");

        private protected override void RegisterFixes(CodeFixContext context, Diagnostic diagnostic, SyntaxNode root, SemanticModel model)
        {
            var attribute = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
            if (attribute is null || AttributeEdits.NamedArgument(attribute, "Invalidate") is not { } argument)
            {
                return;
            }

            RegisterReplacement(context, diagnostic, "Invalidate the cached entry on write (remove '" + argument + "')", EquivalenceKey,
                attribute, () => AttributeEdits.WithoutArgument(attribute, argument));
        }
    }
}
