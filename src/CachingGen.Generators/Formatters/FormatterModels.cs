using CachingGen.Generators.Common;

namespace CachingGen.Generators.Formatters
{
    /// <summary>What a generated formatter serializes.</summary>
    internal enum FormatterKind
    {
        /// <summary>A class, record or struct, serialized as a MessagePack array.</summary>
        Object,

        /// <summary>An enum, serialized as its underlying integer.</summary>
        Enum,
    }

    /// <summary>How one member value is written and read.</summary>
    internal enum MemberValueKind
    {
        /// <summary>Through <c>options.Resolver.GetFormatterWithVerify&lt;T&gt;()</c>.</summary>
        Formatter,

        /// <summary>Inline <c>writer.Write(x)</c> / <c>reader.ReadX()</c> (primitives and string).</summary>
        Primitive,

        /// <summary>Inline as the enum's underlying integer.</summary>
        Enum,
    }

    /// <summary>One serialized member.</summary>
    /// <param name="Key">The array index.</param>
    /// <param name="Name">The C# member name, escaped with <c>@</c> when it is a keyword.</param>
    /// <param name="TypeName">The member type, <c>global::</c>-qualified with nullable annotations.</param>
    /// <param name="ValueKind">How the value is written.</param>
    /// <param name="PrimitiveName">For Primitive and Enum: the MessagePackReader method suffix (<c>Int64</c>, <c>String</c>).</param>
    /// <param name="UnderlyingTypeName">For Enum: the underlying integer keyword (<c>int</c>).</param>
    /// <param name="AssignInInitializer">True when the member is set in the object initializer (not a constructor argument).</param>
    internal sealed record MemberModel(
        int Key,
        string Name,
        string TypeName,
        MemberValueKind ValueKind,
        string PrimitiveName,
        string UnderlyingTypeName,
        bool AssignInInitializer)
    {
        /// <summary>The name of the deserialization local.</summary>
        public string LocalName => "__" + Name.TrimStart('@') + "__";
    }

    /// <summary>A type that gets a generated formatter (or would, but for <see cref="Diagnostics"/>).</summary>
    /// <param name="Kind">Object or enum.</param>
    /// <param name="TypeName">The type, <c>global::</c>-qualified, without nullable annotations.</param>
    /// <param name="SafeName">The identifier used for the formatter class and hint name.</param>
    /// <param name="IsValueType">True for structs and enums.</param>
    /// <param name="Members">Objects: the serialized members ordered by key.</param>
    /// <param name="ArrayLength">Objects: the array header length (largest key + 1).</param>
    /// <param name="ConstructorArguments">Objects: the member names passed to the constructor, in parameter order.</param>
    /// <param name="EnumUnderlyingTypeName">Enums: the underlying integer keyword.</param>
    /// <param name="EnumReadMethod">Enums: the MessagePackReader method suffix of the underlying type.</param>
    /// <param name="Fingerprint">The schema fingerprint.</param>
    /// <param name="Diagnostics">Problems; a formatter is emitted only when empty.</param>
    internal sealed record FormatterTypeModel(
        FormatterKind Kind,
        string TypeName,
        string SafeName,
        bool IsValueType,
        EquatableArray<MemberModel> Members,
        int ArrayLength,
        EquatableArray<string> ConstructorArguments,
        string EnumUnderlyingTypeName,
        string EnumReadMethod,
        ulong Fingerprint,
        EquatableArray<DiagnosticInfo> Diagnostics)
    {
        /// <summary>The generated formatter class name.</summary>
        public string FormatterName => SafeName + "Formatter";

        /// <summary>The fully qualified generated formatter class name.</summary>
        public string FormatterFullName => "global::" + FormatterEmitter.FormattersNamespace + "." + FormatterName;

        /// <summary>True when the formatter can be emitted.</summary>
        public bool IsValid => Diagnostics.IsEmpty;
    }

    /// <summary>A collection or nullable shape whose closed MessagePack built-in formatter the resolver constructs.</summary>
    /// <param name="TypeName">The closed type, <c>global::</c>-qualified, without nullable annotations.</param>
    /// <param name="FormatterTypeName">The closed formatter type to construct.</param>
    /// <param name="Fingerprint">The schema fingerprint.</param>
    internal sealed record ShapeModel(string TypeName, string FormatterTypeName, ulong Fingerprint);

    /// <summary>What one <c>[CachedRepository]</c> interface needs serialized.</summary>
    internal sealed record RepositoryFormatterModel(
        string InterfaceName,
        EquatableArray<FormatterTypeModel> Types,
        EquatableArray<ShapeModel> Shapes,
        EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>One resolver table entry.</summary>
    /// <param name="TypeName">The serialized type (a <c>typeof</c> operand).</param>
    /// <param name="NewExpression">The expression creating its formatter.</param>
    /// <param name="Fingerprint">Its schema fingerprint.</param>
    internal sealed record ResolverEntry(string TypeName, string NewExpression, ulong Fingerprint);

    /// <summary>The resolver's table, ordered deterministically.</summary>
    internal sealed record ResolverModel(EquatableArray<ResolverEntry> Entries);

    /// <summary>Every repository of the assembly merged: the formatters to emit and the resolver.</summary>
    internal sealed record AssemblyFormatterModel(EquatableArray<FormatterTypeModel> Formatters, ResolverModel Resolver);
}
