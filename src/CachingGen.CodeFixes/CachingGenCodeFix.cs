using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>
    /// What every CachingGen code fix shares: Fix All through the batch fixer (each action has a stable equivalence
    /// key), the document's syntax root and semantic model fetched once per request, and actions that replace one
    /// node of the document.
    /// </summary>
    public abstract class CachingGenCodeFix : CodeFixProvider
    {
        private protected CachingGenCodeFix()
        {
        }

        /// <inheritdoc/>
        public sealed override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null || model is null)
            {
                return;
            }

            foreach (var diagnostic in context.Diagnostics)
            {
                RegisterFixes(context, diagnostic, root, model);
            }
        }

        /// <summary>Registers the actions that fix <paramref name="diagnostic"/>, if it can be fixed.</summary>
        private protected abstract void RegisterFixes(CodeFixContext context, Diagnostic diagnostic, SyntaxNode root, SemanticModel model);

        /// <summary>The method declaration the diagnostic is reported in (on its name, an attribute or a parameter).</summary>
        private protected static MethodDeclarationSyntax? MethodAt(SyntaxNode root, Diagnostic diagnostic)
            => root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();

        /// <summary>Registers an action titled <paramref name="title"/> that replaces <paramref name="node"/> by what
        /// <paramref name="replacement"/> builds (only when the action is applied or previewed).</summary>
        private protected static void RegisterReplacement(CodeFixContext context, Diagnostic diagnostic, string title, string equivalenceKey, SyntaxNode node, Func<SyntaxNode> replacement)
        {
            var document = context.Document;
            context.RegisterCodeFix(CodeAction.Create(title, cancellationToken => ReplaceAsync(document, node, replacement, cancellationToken), equivalenceKey), diagnostic);
        }

        private static async Task<Document> ReplaceAsync(Document document, SyntaxNode node, Func<SyntaxNode> replacement, CancellationToken cancellationToken)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            return document.WithSyntaxRoot(root!.ReplaceNode(node, replacement()));
        }
    }
}
