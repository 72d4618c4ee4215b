using System;
using Microsoft.CodeAnalysis;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// A diagnostic as equatable data: the descriptor (equatable, holds no compilation state), a
    /// <see cref="LocationInfo"/> and the message arguments already formatted as strings (invariant culture).
    /// </summary>
    internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> MessageArgs)
    {
        /// <summary>Creates a diagnostic info located at <paramref name="location"/>.</summary>
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] messageArgs)
            => new DiagnosticInfo(descriptor, location, messageArgs is null || messageArgs.Length == 0 ? EquatableArray<string>.Empty : new EquatableArray<string>(messageArgs));

        /// <summary>Creates a diagnostic info located at the first source location of <paramref name="symbol"/>.</summary>
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, ISymbol? symbol, params string[] messageArgs)
            => Create(descriptor, LocationInfo.From(symbol), messageArgs);

        /// <summary>Builds the reportable <see cref="Diagnostic"/>.</summary>
        public Diagnostic ToDiagnostic()
        {
            var args = new object[MessageArgs.Count];
            for (var i = 0; i < args.Length; i++)
            {
                args[i] = MessageArgs[i];
            }

            return Diagnostic.Create(Descriptor, Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, args);
        }

        /// <inheritdoc/>
        public bool Equals(DiagnosticInfo? other)
            => other is not null
               && Descriptor.Equals(other.Descriptor)
               && Nullable.Equals(Location, other.Location)
               && MessageArgs.Equals(other.MessageArgs);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            unchecked
            {
                return (((Descriptor.GetHashCode() * 31) + Location.GetHashCode()) * 31) + MessageArgs.GetHashCode();
            }
        }
    }
}
