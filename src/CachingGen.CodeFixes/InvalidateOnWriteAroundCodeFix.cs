using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>CGEN025: removes <c>Invalidate = false</c>, so the write-around invalidates the entry it writes (the default).</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InvalidateOnWriteAroundCodeFix)), Shared]
    public sealed class InvalidateOnWriteAroundCodeFix : CodeFixProvider
    {
        /// <summary>Equivalence key of the action.</summary>
        public const string EquivalenceKey = "CGEN025.Invalidate";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN025");

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                return;
            }

            foreach (var diagnostic in context.Diagnostics)
            {
                var attribute = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
                if (attribute is null || AttributeEdits.NamedArgument(attribute, "Invalidate") is not { } argument)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create("Invalidate the cached entry on write (remove '" + argument + "')",
                        cancellationToken => RemoveAsync(context.Document, attribute, argument, cancellationToken),
                        EquivalenceKey),
                    diagnostic);
            }
        }

        private static async Task<Document> RemoveAsync(Document document, AttributeSyntax attribute, AttributeArgumentSyntax argument, CancellationToken cancellationToken)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            return document.WithSyntaxRoot(root!.ReplaceNode(attribute, AttributeEdits.WithoutArgument(attribute, argument)));
        }
    }
}
