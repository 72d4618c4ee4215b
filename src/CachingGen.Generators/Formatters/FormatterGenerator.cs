using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using CachingGen.Generators.Common;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CachingGen.Generators.Formatters
{
    /// <summary>
    /// Generates zero-reflection MessagePack formatters for every type a <c>[CachedRepository]</c> decorator stores
    /// or logs, plus one <c>CachingGen.Generated.CachingGenFormatterResolver</c> per assembly. Reports nothing:
    /// problems are recorded on the models for the analyzer.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class FormatterGenerator : IIncrementalGenerator
    {
        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var repositories = RepositoryGate.Provide(context, TrackingNames.Declarations, TrackingNames.Repositories)
                .Select(static (gate, cancellationToken) => gate.Parse(FormatterParser.Parse, cancellationToken))
                .Where(static model => model is not null)
                .Select(static (model, _) => model!)
                .WithTrackingName(TrackingNames.RepositoryModels);

            var assembly = repositories
                .Collect()
                .Select(static (models, ct) => Merge(models, ct))
                .WithTrackingName(TrackingNames.AssemblyModel);

            var formatters = assembly
                .SelectMany(static (model, _) => model is null ? ImmutableArray<FormatterTypeModel>.Empty : model.Formatters.ToImmutableArray())
                .WithTrackingName(TrackingNames.Formatters);

            var resolver = assembly
                .Select(static (model, _) => model?.Resolver)
                .WithTrackingName(TrackingNames.Resolver);

            context.RegisterSourceOutput(formatters, static (spc, model) =>
            {
                var source = FormatterEmitter.EmitFormatter(model, spc.CancellationToken);
                spc.AddSource(FormatterEmitter.HintName(model), SourceText.From(source, System.Text.Encoding.UTF8));
            });

            context.RegisterSourceOutput(resolver, static (spc, model) =>
            {
                if (model is null)
                {
                    return;
                }

                var source = FormatterEmitter.EmitResolver(model, spc.CancellationToken);
                spc.AddSource(FormatterEmitter.ResolverHintName, SourceText.From(source, System.Text.Encoding.UTF8));
            });
        }

        /// <summary>
        /// Merges every repository's model: de-duplicates types and shapes by name, keeps only valid formatters,
        /// orders everything by name. Null when the assembly has no <c>[CachedRepository]</c>.
        /// </summary>
        internal static AssemblyFormatterModel? Merge(ImmutableArray<RepositoryFormatterModel> repositories, CancellationToken cancellationToken)
        {
            if (repositories.IsDefaultOrEmpty)
            {
                return null;
            }

            var types = new Dictionary<string, FormatterTypeModel>(StringComparer.Ordinal);
            var shapes = new Dictionary<string, ShapeModel>(StringComparer.Ordinal);
            foreach (var repository in repositories)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var type in repository.Types)
                {
                    if (type.IsValid && !types.ContainsKey(type.TypeName))
                    {
                        types.Add(type.TypeName, type);
                    }
                }

                foreach (var shape in repository.Shapes)
                {
                    if (!shapes.ContainsKey(shape.TypeName))
                    {
                        shapes.Add(shape.TypeName, shape);
                    }
                }
            }

            var formatters = new List<FormatterTypeModel>(types.Values);
            formatters.Sort(static (a, b) => string.CompareOrdinal(a.SafeName, b.SafeName));
            var shapeList = new List<ShapeModel>(shapes.Values);
            shapeList.Sort(static (a, b) => string.CompareOrdinal(a.TypeName, b.TypeName));

            var entries = new List<ResolverEntry>(formatters.Count + shapeList.Count);
            foreach (var formatter in formatters)
            {
                entries.Add(new ResolverEntry(formatter.TypeName, formatter.FormatterFullName, formatter.Fingerprint));
            }

            foreach (var shape in shapeList)
            {
                entries.Add(new ResolverEntry(shape.TypeName, shape.FormatterTypeName, shape.Fingerprint));
            }

            return new AssemblyFormatterModel(formatters.ToEquatableArray(), new ResolverModel(entries.ToEquatableArray()));
        }
    }
}
