using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// A source location as plain data, so models can carry where a diagnostic belongs without keeping a
    /// <see cref="Location"/> (and through it a whole <see cref="SyntaxTree"/>) alive in the pipeline.
    /// </summary>
    internal readonly record struct LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        /// <summary>Captures <paramref name="location"/>; null when it is null or not in source.</summary>
        public static LocationInfo? From(Location? location)
        {
            if (location is null || !location.IsInSource || location.SourceTree is null)
            {
                return null;
            }

            return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
        }

        /// <summary>Captures the first source location of <paramref name="symbol"/>, if any.</summary>
        public static LocationInfo? From(ISymbol? symbol)
        {
            if (symbol is null)
            {
                return null;
            }

            foreach (var location in symbol.Locations)
            {
                if (location.IsInSource)
                {
                    return From(location);
                }
            }

            return null;
        }

        /// <summary>Rebuilds a <see cref="Location"/> when the diagnostic is reported.</summary>
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
    }
}
