using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Decorators
{
    /// <summary>
    /// The members of an entity that can serve as a write-back IdempotencyKey: readable, of a type that forms a
    /// stable key (what CGEN003 accepts), not part of the cache key (a key member would make every write of one
    /// entity the same write), and marked [CacheVersion] or named like a version (first) or an operation id. The
    /// CGEN013 code fix offers them.
    /// </summary>
    internal static class IdempotencyCandidates
    {
        /// <summary>Name fragments of members that change with every write of an entity, compared case-insensitively.</summary>
        private static readonly string[] VersionLike =
        {
            "version", "revision", "etag", "stamp", "updatedat", "updatedon", "modifiedat", "modifiedon", "lastmodified", "sequence", "generation",
        };

        /// <summary>The candidate member names of <paramref name="entity"/>: its [CacheVersion] member first (the
        /// member the developer already declared to change with every write of the row), then the other version-like
        /// members, then id-like ones, each in declaration order (base types first).</summary>
        public static IReadOnlyList<string> For(ITypeSymbol entity)
        {
            var keyMembers = new HashSet<string>();
            foreach (var key in RepositoryParser.KeyMembers(entity))
            {
                keyMembers.Add(key.Name);
            }

            var declaredVersions = new HashSet<string>();
            foreach (var version in RepositoryParser.VersionMembers(entity))
            {
                declaredVersions.Add(version.Name);
            }

            var chain = new List<ITypeSymbol>();
            for (var current = entity; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
            {
                chain.Insert(0, current);
            }

            var seen = new HashSet<string>();
            var declared = new List<string>();
            var versions = new List<string>();
            var ids = new List<string>();
            foreach (var type in chain)
            {
                foreach (var member in type.GetMembers())
                {
                    var memberType = member switch
                    {
                        IPropertySymbol { IsIndexer: false, IsStatic: false } property => property.Type,
                        IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false } field => field.Type,
                        _ => null,
                    };
                    if (memberType is null || keyMembers.Contains(member.Name) || !RepositoryParser.IsReadable(member)
                        || !RepositoryParser.TryKeyEncoding(memberType, out _, out _) || !seen.Add(member.Name))
                    {
                        continue;
                    }

                    if (declaredVersions.Contains(member.Name))
                    {
                        declared.Add(member.Name);
                    }
                    else if (IsVersionLike(member.Name))
                    {
                        versions.Add(member.Name);
                    }
                    else if (IsIdLike(member.Name))
                    {
                        ids.Add(member.Name);
                    }
                }
            }

            declared.AddRange(versions);
            declared.AddRange(ids);
            return declared;
        }

        private static bool IsVersionLike(string name)
        {
            foreach (var fragment in VersionLike)
            {
                if (name.IndexOf(fragment, StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsIdLike(string name)
            => name.EndsWith("Id", StringComparison.Ordinal) || name.EndsWith("ID", StringComparison.Ordinal) || name.EndsWith("Key", StringComparison.Ordinal);
    }
}
