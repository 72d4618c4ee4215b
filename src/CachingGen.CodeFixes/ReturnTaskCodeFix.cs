using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;

namespace CachingGen.CodeFixes
{
    /// <summary>
    /// CGEN001: wraps a synchronous caching method's return type in <c>Task</c> or <c>ValueTask</c> (<c>void</c>
    /// becomes <c>Task</c>/<c>ValueTask</c>). Only the interface declaration changes; implementations and callers
    /// follow with the compiler's help.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReturnTaskCodeFix)), Shared]
    public sealed class ReturnTaskCodeFix : CodeFixProvider
    {
        /// <summary>Equivalence key of the <c>Task</c> action.</summary>
        public const string TaskKey = "CGEN001.Task";

        /// <summary>Equivalence key of the <c>ValueTask</c> action.</summary>
        public const string ValueTaskKey = "CGEN001.ValueTask";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN001");

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
                var method = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();
                if (method is null || method.ReturnType is RefTypeSyntax)
                {
                    continue;
                }

                foreach (var (wrapper, key) in new[] { ("Task", TaskKey), ("ValueTask", ValueTaskKey) })
                {
                    var isVoid = method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword };
                    var shown = isVoid ? wrapper : wrapper + "<" + method.ReturnType.WithoutTrivia() + ">";
                    context.RegisterCodeFix(
                        CodeAction.Create("Return " + shown,
                            cancellationToken => WrapAsync(context.Document, method, wrapper, isVoid, cancellationToken),
                            key),
                        diagnostic);
                }
            }
        }

        private static async Task<Document> WrapAsync(Document document, MethodDeclarationSyntax method, string wrapper, bool isVoid, CancellationToken cancellationToken)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            var qualified = "global::System.Threading.Tasks." + wrapper + (isVoid ? string.Empty : "<" + method.ReturnType.WithoutTrivia().ToFullString() + ">");
            var returnType = SyntaxFactory.ParseTypeName(qualified)
                .WithTriviaFrom(method.ReturnType)
                .WithAdditionalAnnotations(Simplifier.Annotation);
            return document.WithSyntaxRoot(root!.ReplaceNode(method, method.WithReturnType(returnType)));
        }
    }
}
