// Polyfill: netstandard2.0 lacks this marker type, which records and init-only setters need.
// Defined once for the whole generator assembly; do not add another copy.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit
    {
    }
}
