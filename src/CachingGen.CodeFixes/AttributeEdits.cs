using System.Collections.Generic;
using System.Threading;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>The attribute edits the code fixes share: finding CachingGen attributes, and adding, replacing or removing named arguments and whole attributes while keeping the user's layout.</summary>
    internal static class AttributeEdits
    {
        /// <summary>The CachingGen strategy attributes on <paramref name="method"/>, with their strategy, in source order.</summary>
        public static List<(AttributeSyntax Attribute, Strategy Strategy)> StrategyAttributes(MethodDeclarationSyntax method, SemanticModel model, CancellationToken cancellationToken)
        {
            var result = new List<(AttributeSyntax, Strategy)>();
            foreach (var list in method.AttributeLists)
            {
                foreach (var attribute in list.Attributes)
                {
                    if (AttributeClass(attribute, model, cancellationToken) is { } attributeClass
                        && RepositoryParser.IsOurs(attributeClass)
                        && KnownNames.StrategyOf(attributeClass.Name) is var strategy && strategy != Strategy.PassThrough)
                    {
                        result.Add((attribute, strategy));
                    }
                }
            }

            return result;
        }

        /// <summary>The CachingGen attribute named <paramref name="metadataName"/> (e.g. <c>CachedRepositoryAttribute</c>) among <paramref name="lists"/>.</summary>
        public static AttributeSyntax? Find(SyntaxList<AttributeListSyntax> lists, string metadataName, SemanticModel model, CancellationToken cancellationToken)
        {
            foreach (var list in lists)
            {
                foreach (var attribute in list.Attributes)
                {
                    if (AttributeClass(attribute, model, cancellationToken) is { } attributeClass
                        && attributeClass.Name == metadataName && RepositoryParser.IsOurs(attributeClass))
                    {
                        return attribute;
                    }
                }
            }

            return null;
        }

        /// <summary>The named argument <paramref name="name"/> of <paramref name="attribute"/>, if written.</summary>
        public static AttributeArgumentSyntax? NamedArgument(AttributeSyntax attribute, string name)
        {
            if (attribute.ArgumentList is null)
            {
                return null;
            }

            foreach (var argument in attribute.ArgumentList.Arguments)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == name)
                {
                    return argument;
                }
            }

            return null;
        }

        /// <summary>Sets <c>name = value</c> on <paramref name="attribute"/>: replaces the value if the argument is written, else appends it.</summary>
        public static AttributeSyntax WithNamedArgument(AttributeSyntax attribute, string name, string valueText)
        {
            var value = SyntaxFactory.ParseExpression(valueText);
            if (NamedArgument(attribute, name) is { } existing)
            {
                return attribute.ReplaceNode(existing, existing.WithExpression(value.WithTriviaFrom(existing.Expression)));
            }

            var argument = SyntaxFactory.AttributeArgument(
                SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName(name), SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)),
                null,
                value);
            if (attribute.ArgumentList is null || attribute.ArgumentList.Arguments.Count == 0)
            {
                return attribute.WithArgumentList(SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(argument)));
            }

            var withSeparators = attribute.ArgumentList.Arguments.GetWithSeparators()
                .Add(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space))
                .Add(argument);
            return attribute.WithArgumentList(attribute.ArgumentList.WithArguments(SyntaxFactory.SeparatedList<AttributeArgumentSyntax>(withSeparators)));
        }

        /// <summary>Removes <paramref name="argument"/>, and the parentheses when it was the only one.</summary>
        public static AttributeSyntax WithoutArgument(AttributeSyntax attribute, AttributeArgumentSyntax argument)
        {
            var arguments = attribute.ArgumentList!.Arguments.Remove(argument);
            return arguments.Count == 0
                ? attribute.WithArgumentList(null).WithTrailingTrivia(attribute.GetTrailingTrivia())
                : attribute.WithArgumentList(attribute.ArgumentList.WithArguments(arguments));
        }

        /// <summary>
        /// Removes <paramref name="remove"/> from the attribute lists of <paramref name="member"/>: from their list when
        /// it holds others (its separator goes too), else the whole list with its line; the member keeps its leading
        /// trivia (documentation comment, indentation).
        /// </summary>
        public static TMember WithoutAttributes<TMember>(TMember member, ICollection<AttributeSyntax> remove)
            where TMember : MemberDeclarationSyntax
        {
            var lists = new List<AttributeListSyntax>();
            var droppedFirst = false;
            for (var i = 0; i < member.AttributeLists.Count; i++)
            {
                var list = member.AttributeLists[i];
                var attributes = list.Attributes;
                for (var j = list.Attributes.Count - 1; j >= 0; j--)
                {
                    if (remove.Contains(list.Attributes[j]))
                    {
                        attributes = attributes.RemoveAt(j);
                    }
                }

                if (attributes.Count == 0)
                {
                    droppedFirst |= i == 0;
                    continue;
                }

                lists.Add(attributes.Count == list.Attributes.Count ? list : list.WithAttributes(attributes));
            }

            var edited = (TMember)member.WithAttributeLists(SyntaxFactory.List(lists));
            return droppedFirst ? edited.WithLeadingTrivia(member.GetLeadingTrivia()) : edited;
        }

        private static INamedTypeSymbol? AttributeClass(AttributeSyntax attribute, SemanticModel model, CancellationToken cancellationToken)
            => model.GetSymbolInfo(attribute, cancellationToken).Symbol?.ContainingType;
    }
}
