using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
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
    public sealed class ReturnTaskCodeFix : CachingGenCodeFix
    {
        /// <summary>Equivalence key of the <c>Task</c> action.</summary>
        public const string TaskKey = "CGEN001.Task";

        /// <summary>Equivalence key of the <c>ValueTask</c> action.</summary>
        public const string ValueTaskKey = "CGEN001.ValueTask";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN001");

        private protected override void RegisterFixes(CodeFixContext context, Diagnostic diagnostic, SyntaxNode root, SemanticModel model)
        {
            var method = MethodAt(root, diagnostic);
            if (method is null || method.ReturnType is RefTypeSyntax)
            {
                return;
            }

            var isVoid = method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword };
            foreach (var (wrapper, key) in new[] { ("Task", TaskKey), ("ValueTask", ValueTaskKey) })
            {
                var shown = isVoid ? wrapper : wrapper + "<" + method.ReturnType.WithoutTrivia() + ">";
                RegisterReplacement(context, diagnostic, "Return " + shown, key, method, () => Wrap(method, wrapper, isVoid));
            }
        }

        private static MethodDeclarationSyntax Wrap(MethodDeclarationSyntax method, string wrapper, bool isVoid)
        {
            var qualified = "global::System.Threading.Tasks." + wrapper + (isVoid ? string.Empty : "<" + method.ReturnType.WithoutTrivia().ToFullString() + ">");
            var returnType = SyntaxFactory.ParseTypeName(qualified)
                .WithTriviaFrom(method.ReturnType)
                .WithAdditionalAnnotations(Simplifier.Annotation);
            return method.WithReturnType(returnType);
        }
    }
}
