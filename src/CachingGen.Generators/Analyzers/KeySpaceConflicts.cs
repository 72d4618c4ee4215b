using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CachingGen.Generators.Analyzers
{
    /// <summary>
    /// CGEN023: the key spaces of all valid repositories of one compilation, collected while their interfaces are
    /// analyzed (concurrently, in any order) and compared once at the end of the compilation, in a fixed order.
    /// </summary>
    internal sealed class KeySpaceConflicts
    {
        private readonly ConcurrentBag<KeySpace> _keySpaces = new ConcurrentBag<KeySpace>();

        /// <summary>Records the key space of a repository the parser accepted.</summary>
        public void Add(INamedTypeSymbol repository, RepositoryModel model)
        {
            if (repository.Locations.IsEmpty || !repository.Locations[0].IsInSource)
            {
                return;
            }

            var writes = false;
            foreach (var member in model.Members)
            {
                writes |= member.Strategy == Strategy.WriteThrough || member.Strategy == Strategy.WriteAround
                          || member.Strategy == Strategy.WriteBack || member.Strategy == Strategy.Evict;
            }

            var entity = model.Entity.GlobalName.StartsWith("global::", StringComparison.Ordinal)
                ? model.Entity.GlobalName.Substring("global::".Length)
                : model.Entity.GlobalName;
            _keySpaces.Add(new KeySpace(model.StableName, repository.Locations[0], model.KeyPrefix, entity, writes));
        }

        /// <summary>Reports every conflicting pair, on both interfaces, in a deterministic order.</summary>
        public void Report(CompilationAnalysisContext context)
        {
            var keySpaces = new List<KeySpace>(_keySpaces);
            keySpaces.Sort((a, b) => string.CompareOrdinal(a.Repository, b.Repository));
            for (var i = 0; i < keySpaces.Count; i++)
            {
                for (var j = i + 1; j < keySpaces.Count; j++)
                {
                    context.CancellationToken.ThrowIfCancellationRequested();
                    var (first, second) = (keySpaces[i], keySpaces[j]);
                    string? problem = null, advice = null;
                    if (first.Entity == second.Entity && first.KeyPrefix != second.KeyPrefix && (first.Writes || second.Writes))
                    {
                        problem = "both cache '" + first.Entity + "', under different key prefixes ('" + first.KeyPrefix + "' and '" + second.KeyPrefix + "')";
                        advice = "A write through one leaves the other's cached copy of the same row stale: two cache entries for one row. Give both the same KeyPrefix, or cache the entity through one repository.";
                    }
                    else if (first.Entity != second.Entity && first.KeyPrefix == second.KeyPrefix)
                    {
                        problem = "use the same key prefix '" + first.KeyPrefix + "' for different entity types ('" + first.Entity + "' and '" + second.Entity + "')";
                        advice = "Equal keys collide, so one cache key would hold two shapes and each repository would read the other's entries as corrupt. Give each entity type its own KeyPrefix.";
                    }

                    if (problem is not null)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ConflictingKeySpaces, first.Location, first.Repository, second.Repository, problem, advice));
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ConflictingKeySpaces, second.Location, second.Repository, first.Repository, problem, advice));
                    }
                }
            }
        }

        private sealed record KeySpace(string Repository, Location Location, string KeyPrefix, string Entity, bool Writes);
    }
}
