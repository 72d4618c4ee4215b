using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace CachingGen.Generators.Common
{
    /// <summary>Remembers a pure function of an immutable Roslyn object (a syntax tree, a compilation) for as long as that object lives.</summary>
    internal static class WeakMemo
    {
        /// <summary>
        /// The value remembered for <paramref name="key"/>, computed now when there is none. Computed outside the table,
        /// so that a cancelled computation remembers nothing; two threads may both compute, and one value wins.
        /// </summary>
        public static TValue GetOrCompute<TKey, TValue>(ConditionalWeakTable<TKey, TValue> table, TKey key, Func<TKey, CancellationToken, TValue> compute, CancellationToken cancellationToken)
            where TKey : class
            where TValue : class
        {
            if (table.TryGetValue(key, out var known))
            {
                return known;
            }

            var computed = compute(key, cancellationToken);
            return table.GetValue(key, _ => computed);
        }
    }
}
