using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>
    /// CGEN004 (a time to live out of range) and CGEN026 (longer than 30 days): remove the argument so the
    /// documented default applies; for a value that is too long, also use 30 days, or read it as milliseconds when it
    /// divides by 1000 into a sensible number of seconds.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(TtlCodeFix)), Shared]
    public sealed class TtlCodeFix : CachingGenCodeFix
    {
        /// <summary>Equivalence key of "remove the argument".</summary>
        public const string RemoveKey = "CGEN004.Ttl.Remove";

        /// <summary>Equivalence key of "divide by 1000".</summary>
        public const string MillisecondsKey = "CGEN004.Ttl.Milliseconds";

        /// <summary>Equivalence key of "use 30 days".</summary>
        public const string ThirtyDaysKey = "CGEN004.Ttl.ThirtyDays";

        private static readonly string[] TtlArguments = { "DefaultTtl", "NullTtl", "Ttl" };

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN004", "CGEN026");

        private protected override void RegisterFixes(CodeFixContext context, Diagnostic diagnostic, SyntaxNode root, SemanticModel model)
        {
            // Both messages start with "{argument} = {value} on ...".
            var message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
            var name = TtlArguments.FirstOrDefault(n => message.StartsWith(n + " = ", System.StringComparison.Ordinal));
            var attribute = FindAttribute(root, model, diagnostic, context.CancellationToken);
            if (name is null || attribute is null || AttributeEdits.NamedArgument(attribute, name) is not { } argument)
            {
                return;
            }

            RegisterReplacement(context, diagnostic, "Remove '" + argument + "' (use the default)", RemoveKey,
                attribute, () => AttributeEdits.WithoutArgument(attribute, argument));

            if (model.GetConstantValue(argument.Expression, context.CancellationToken) is not { HasValue: true, Value: int value } || value <= RepositoryParser.LongTtlSeconds)
            {
                return;
            }

            if (value % 1000 == 0 && value / 1000 > 0 && value / 1000 <= RepositoryParser.LongTtlSeconds)
            {
                var seconds = (value / 1000).ToString(CultureInfo.InvariantCulture);
                RegisterReplacement(context, diagnostic, "Use " + name + " = " + seconds + " (the value reads as milliseconds)", MillisecondsKey,
                    attribute, () => AttributeEdits.WithNamedArgument(attribute, name, seconds));
            }

            RegisterReplacement(context, diagnostic, "Use " + name + " = 30 days", ThirtyDaysKey,
                attribute, () => AttributeEdits.WithNamedArgument(attribute, name, "30 * 24 * 3600"));
        }

        /// <summary>The attribute the diagnostic is about: it is reported on the attribute, or (DefaultTtl) on the interface name.</summary>
        private static AttributeSyntax? FindAttribute(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        {
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            if (node.AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault() is { } attribute)
            {
                return attribute;
            }

            return node.AncestorsAndSelf().OfType<InterfaceDeclarationSyntax>().FirstOrDefault() is { } repository
                ? AttributeEdits.Find(repository.AttributeLists, KnownNames.CachedRepository, model, cancellationToken)
                : null;
        }
    }
}
