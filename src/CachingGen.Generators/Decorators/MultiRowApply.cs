using System.Collections.Generic;
using System.Globalization;
using CachingGen.Generators.Common;
using CachingGen.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Generators.Decorators
{
    /// <summary>
    /// <c>[WriteBack(ApplyManyWith = nameof(...))]</c>: finds the named multi-row method on the repository interface and
    /// checks its shape (CGEN028 to CGEN030), so the generated dispatcher can call it with a run of the write-back
    /// method's entities.
    /// </summary>
    internal static class MultiRowApply
    {
        internal const string PropertyName = "ApplyManyWith";

        /// <summary>The method to call, or null when none is named or it is wrong (a diagnostic says why).</summary>
        public static ApplyManyModel? Resolve(INamedTypeSymbol repository, IMethodSymbol writeBack, AttributeData? attribute, List<DiagnosticInfo> diagnostics)
        {
            var name = RepositoryParser.ReadString(attribute, PropertyName);
            if (name is null)
            {
                return null;
            }

            var location = LocationInfo.From(ArgumentLocation(attribute) ?? writeBack.Locations[0]);
            var data = new List<IParameterSymbol>();
            foreach (var parameter in writeBack.Parameters)
            {
                if (!SymbolFacts.IsCancellationToken(parameter.Type))
                {
                    data.Add(parameter);
                }
            }

            if (data.Count != 1)
            {
                var described = new List<string>();
                foreach (var parameter in data)
                {
                    described.Add(parameter.Type.ToDisplayString() + " " + parameter.Name);
                }

                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ApplyManyNeedsOneArgument, location,
                    name, writeBack.Name, data.Count.ToString(CultureInfo.InvariantCulture), string.Join(", ", described)));
                return null;
            }

            var entity = RepositoryParser.StripNullable(data[0].Type);
            var entityDisplay = entity.ToDisplayString();
            string? firstProblem = null;
            foreach (var (member, declaringInterface) in RepositoryParser.AllMembers(repository))
            {
                if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary } candidate || candidate.Name != name)
                {
                    continue;
                }

                var problem = ShapeProblem(candidate, entity, out var element, out var tokenIndex, out var returnsTask);
                if (problem is null)
                {
                    return new ApplyManyModel(candidate.Name, TypeNames.GlobalWithoutNullable(declaringInterface), TypeNames.Global(element!), tokenIndex, returnsTask);
                }

                firstProblem ??= problem;
            }

            diagnostics.Add(firstProblem is null
                ? DiagnosticInfo.Create(DiagnosticDescriptors.ApplyManyMethodNotFound, location, name, writeBack.Name, repository.Name, entityDisplay)
                : DiagnosticInfo.Create(DiagnosticDescriptors.ApplyManyMethodShape, location, name, writeBack.Name, firstProblem, entityDisplay));
            return null;
        }

        /// <summary>Why <paramref name="method"/> cannot take a run of <paramref name="entity"/> values; null when it can.</summary>
        private static string? ShapeProblem(IMethodSymbol method, ITypeSymbol entity, out ITypeSymbol? element, out int tokenIndex, out bool returnsTask)
        {
            element = null;
            tokenIndex = -1;
            returnsTask = false;
            if (method.IsGenericMethod)
            {
                return "is generic";
            }

            IParameterSymbol? collection = null;
            var others = new List<string>();
            for (var i = 0; i < method.Parameters.Length; i++)
            {
                var parameter = method.Parameters[i];
                if (parameter.RefKind != RefKind.None)
                {
                    return "takes parameter '" + parameter.Name + "' by reference (ref, out or in)";
                }

                if (SymbolFacts.IsCancellationToken(parameter.Type) && tokenIndex < 0)
                {
                    tokenIndex = i;
                }
                else if (collection is null)
                {
                    collection = parameter;
                }
                else
                {
                    others.Add(parameter.Type.ToDisplayString() + " " + parameter.Name);
                }
            }

            if (collection is null)
            {
                return "takes no collection parameter";
            }

            if (others.Count > 0)
            {
                return "takes other parameters besides the collection and a CancellationToken (" + string.Join(", ", others) + ")";
            }

            var type = collection.Type;
            element = RepositoryParser.ElementTypeOf(type);
            if (element is null)
            {
                return "takes '" + type.ToDisplayString() + "', which is not a collection";
            }

            if (type is INamedTypeSymbol { Name: "List" })
            {
                return "takes '" + type.ToDisplayString() + "', which an array does not convert to (the flusher passes an array)";
            }

            if (!SymbolEqualityComparer.Default.Equals(RepositoryParser.StripNullable(element), entity))
            {
                return "takes a collection of '" + element.ToDisplayString() + "', not of '" + entity.ToDisplayString() + "'";
            }

            if (!SymbolFacts.IsTaskLike(method.ReturnType, out var isValueTask, out var result) || result is not null)
            {
                return "returns '" + method.ReturnType.ToDisplayString() + "'";
            }

            returnsTask = !isValueTask;
            return null;
        }

        /// <summary>The <c>ApplyManyWith = ...</c> argument inside the attribute, so the error points at the name.</summary>
        private static Location? ArgumentLocation(AttributeData? attribute)
        {
            if (attribute?.ApplicationSyntaxReference?.GetSyntax() is AttributeSyntax { ArgumentList: { } arguments } syntax)
            {
                foreach (var argument in arguments.Arguments)
                {
                    if (argument.NameEquals?.Name.Identifier.ValueText == PropertyName)
                    {
                        return argument.GetLocation();
                    }
                }

                return syntax.GetLocation();
            }

            return RepositoryParser.AttributeLocation(attribute);
        }
    }
}
