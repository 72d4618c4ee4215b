namespace CachingGen.Generators.Formatters
{
    /// <summary>
    /// FNV-1a, 64 bit, over the UTF-16 code units (low byte first) of a canonical layout descriptor. Hand-written
    /// because <c>string.GetHashCode</c> is randomized per process and so never stable across builds.
    /// </summary>
    internal static class SchemaFingerprint
    {
        private const ulong OffsetBasis = 14695981039346656037UL;
        private const ulong Prime = 1099511628211UL;

        /// <summary>Hashes <paramref name="descriptor"/>. Never returns 0 (0 means "unknown type").</summary>
        public static ulong Compute(string descriptor)
        {
            var hash = OffsetBasis;
            foreach (var c in descriptor)
            {
                hash ^= (byte)(c & 0xFF);
                hash *= Prime;
                hash ^= (byte)(c >> 8);
                hash *= Prime;
            }

            return hash == 0 ? 1UL : hash;
        }
    }
}
