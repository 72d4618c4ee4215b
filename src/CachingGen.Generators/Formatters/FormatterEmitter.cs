using System.Collections.Generic;
using System.Threading;
using CachingGen.Generators.Common;

namespace CachingGen.Generators.Formatters
{
    /// <summary>
    /// Writes the generated MessagePack formatters and the resolver, mirroring MessagePack v2's mpc output. Every
    /// number is formatted with the invariant culture (<see cref="FormatterParser.Hex"/>, <see cref="FormatterParser.Invariant"/>).
    /// </summary>
    internal static class FormatterEmitter
    {
        /// <summary>The namespace of generated formatters.</summary>
        public const string FormattersNamespace = "CachingGen.Generated.Formatters";

        /// <summary>The namespace of the resolver.</summary>
        public const string ResolverNamespace = "CachingGen.Generated";

        /// <summary>The resolver class name (a contract: decorators use <c>CachingGenFormatterResolver.Options</c>).</summary>
        public const string ResolverName = "CachingGenFormatterResolver";

        /// <summary>The hint name of the resolver file.</summary>
        public const string ResolverHintName = ResolverName + ".g.cs";

        /// <summary>Entries per switch of the resolver's formatter creation (see <c>EmitResolver</c>).</summary>
        private const int SwitchBlock = 64;
        private const string Writer = "global::MessagePack.MessagePackWriter";
        private const string Reader = "global::MessagePack.MessagePackReader";
        private const string Options = "global::MessagePack.MessagePackSerializerOptions";
        private const string FormatterInterface = "global::MessagePack.Formatters.IMessagePackFormatter";

        /// <summary>The hint name of a formatter file.</summary>
        public static string HintName(FormatterTypeModel model) => model.SafeName + ".Formatter.g.cs";

        /// <summary>Emits one formatter file.</summary>
        public static string EmitFormatter(FormatterTypeModel model, CancellationToken cancellationToken)
        {
            var writer = new SourceWriter();
            writer.Write(GeneratedCode.Header);
            writer.WriteLine();
            writer.WriteLine("namespace " + FormattersNamespace);
            writer.OpenBlock();
            var subject = model.IsValueType || model.Kind == FormatterKind.Enum ? model.TypeName : model.TypeName + "?";
            writer.WriteLine("/// <summary>MessagePack formatter for <c>" + XmlText(model.TypeName.Replace("global::", string.Empty)) + "</c>.</summary>");
            writer.WriteLine(GeneratedCode.Attribute);
            writer.WriteLine(GeneratedCode.EditorBrowsableNever);
            writer.WriteLine(GeneratedCode.ExcludeFromCodeCoverage);
            writer.WriteLine("internal sealed class " + model.FormatterName + " : " + FormatterInterface + "<" + subject + ">");
            writer.OpenBlock();
            writer.WriteLine("/// <summary>The schema fingerprint of the serialized layout.</summary>");
            writer.WriteLine("public const ulong SchemaFingerprint = " + FormatterParser.Hex(model.Fingerprint) + ";");
            writer.WriteLine();
            cancellationToken.ThrowIfCancellationRequested();
            if (model.Kind == FormatterKind.Enum)
            {
                EmitEnumBody(writer, model);
            }
            else
            {
                var formattedTypes = FormattedMemberTypes(model);
                EmitSerialize(writer, model, subject, formattedTypes);
                writer.WriteLine();
                EmitDeserialize(writer, model, subject, formattedTypes);
                EmitMemberFormatters(writer, formattedTypes);
            }

            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToString();
        }

        private static string XmlText(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        private static void EmitEnumBody(SourceWriter writer, FormatterTypeModel model)
        {
            writer.WriteLine("public void Serialize(ref " + Writer + " writer, " + model.TypeName + " value, " + Options + " options)");
            writer.OpenBlock();
            writer.WriteLine("writer.Write((" + model.EnumUnderlyingTypeName + ")value);");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("public " + model.TypeName + " Deserialize(ref " + Reader + " reader, " + Options + " options)");
            writer.OpenBlock();
            writer.WriteLine("return (" + model.TypeName + ")reader.Read" + model.EnumReadMethod + "();");
            writer.CloseBlock();
        }

        /// <summary>The member types read and written through a formatter (the resolver's), each once, in key order;
        /// empty when every member is written inline.</summary>
        private static List<string> FormattedMemberTypes(FormatterTypeModel model)
        {
            var types = new List<string>();
            foreach (var member in model.Members)
            {
                if (member.ValueKind == MemberValueKind.Formatter && !types.Contains(member.TypeName))
                {
                    types.Add(member.TypeName);
                }
            }

            return types;
        }

        private static string MemberFormatter(List<string> formattedTypes, MemberModel member)
            => "FormatterOf" + FormatterParser.Invariant(formattedTypes.IndexOf(member.TypeName)) + "(formatterResolver)";

        /// <summary>
        /// One cached formatter per member type. Asking the resolver on every call is a generic virtual call (a
        /// runtime hash lookup) per member and object; this assembly's resolver always answers with the same
        /// formatter, so the first answer is kept. Kept lazily rather than in a static initializer: a type that
        /// contains itself would otherwise ask the resolver for its own formatter while that is being created.
        /// Another resolver (a composite a developer built around ours) is asked every time, as before.
        /// </summary>
        private static void EmitMemberFormatters(SourceWriter writer, List<string> types)
        {
            for (var i = 0; i < types.Count; i++)
            {
                var index = FormatterParser.Invariant(i);
                var formatter = FormatterInterface + "<" + types[i] + ">";
                writer.WriteLine();
                writer.WriteLine("private static " + formatter + "? s_formatterOf" + index + ";");
                writer.WriteLine();
                writer.WriteLine("private static " + formatter + " FormatterOf" + index + "(global::MessagePack.IFormatterResolver resolver)");
                writer.OpenBlock();
                writer.WriteLine("return global::System.Object.ReferenceEquals(resolver, global::" + ResolverNamespace + "." + ResolverName + ".Instance)");
                writer.Indent();
                writer.WriteLine("? s_formatterOf" + index + " ??= global::MessagePack.FormatterResolverExtensions.GetFormatterWithVerify<" + types[i] + ">(resolver)");
                writer.WriteLine(": global::MessagePack.FormatterResolverExtensions.GetFormatterWithVerify<" + types[i] + ">(resolver);");
                writer.Outdent();
                writer.CloseBlock();
            }
        }

        private static void EmitSerialize(SourceWriter writer, FormatterTypeModel model, string subject, List<string> formattedTypes)
        {
            writer.WriteLine("public void Serialize(ref " + Writer + " writer, " + subject + " value, " + Options + " options)");
            writer.OpenBlock();
            if (!model.IsValueType)
            {
                writer.WriteLine("if (value is null)");
                writer.OpenBlock();
                writer.WriteLine("writer.WriteNil();");
                writer.WriteLine("return;");
                writer.CloseBlock();
                writer.WriteLine();
            }

            if (formattedTypes.Count > 0)
            {
                writer.WriteLine("global::MessagePack.IFormatterResolver formatterResolver = options.Resolver;");
            }

            writer.WriteLine("writer.WriteArrayHeader(" + FormatterParser.Invariant(model.ArrayLength) + ");");
            var byKey = ByKey(model);
            for (var key = 0; key < model.ArrayLength; key++)
            {
                if (!byKey.TryGetValue(key, out var member))
                {
                    writer.WriteLine("writer.WriteNil();");
                    continue;
                }

                var access = "value." + member.Name;
                switch (member.ValueKind)
                {
                    case MemberValueKind.Primitive:
                        writer.WriteLine("writer.Write(" + access + ");");
                        break;
                    case MemberValueKind.Enum:
                        writer.WriteLine("writer.Write((" + member.UnderlyingTypeName + ")" + access + ");");
                        break;
                    default:
                        writer.WriteLine(MemberFormatter(formattedTypes, member) + ".Serialize(ref writer, " + access + ", options);");
                        break;
                }
            }

            writer.CloseBlock();
        }

        private static void EmitDeserialize(SourceWriter writer, FormatterTypeModel model, string subject, List<string> formattedTypes)
        {
            writer.WriteLine("public " + subject + " Deserialize(ref " + Reader + " reader, " + Options + " options)");
            writer.OpenBlock();
            writer.WriteLine("if (reader.TryReadNil())");
            writer.OpenBlock();
            if (model.IsValueType)
            {
                writer.WriteLine("throw new global::MessagePack.MessagePackSerializationException(\"Nil cannot be deserialized as the struct " + model.TypeName.Replace("global::", string.Empty) + ".\");");
            }
            else
            {
                writer.WriteLine("return null;");
            }

            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("options.Security.DepthStep(ref reader);");
            writer.WriteLine("try");
            writer.OpenBlock();
            if (formattedTypes.Count > 0)
            {
                writer.WriteLine("global::MessagePack.IFormatterResolver formatterResolver = options.Resolver;");
            }

            foreach (var member in model.Members)
            {
                writer.WriteLine(member.TypeName + " " + member.LocalName + " = default!;");
            }

            writer.WriteLine("int length = reader.ReadArrayHeader();");
            writer.WriteLine("for (int i = 0; i < length; i++)");
            writer.OpenBlock();
            writer.WriteLine("switch (i)");
            writer.OpenBlock();
            foreach (var member in model.Members)
            {
                writer.WriteLine("case " + FormatterParser.Invariant(member.Key) + ":");
                writer.Indent();
                switch (member.ValueKind)
                {
                    case MemberValueKind.Primitive:
                        writer.WriteLine(member.LocalName + " = reader.Read" + member.PrimitiveName + "()" + (member.PrimitiveName == "String" ? "!" : string.Empty) + ";");
                        break;
                    case MemberValueKind.Enum:
                        writer.WriteLine(member.LocalName + " = (" + member.TypeName.TrimEnd('?') + ")reader.Read" + member.PrimitiveName + "();");
                        break;
                    default:
                        writer.WriteLine(member.LocalName + " = " + MemberFormatter(formattedTypes, member) + ".Deserialize(ref reader, options);");
                        break;
                }

                writer.WriteLine("break;");
                writer.Outdent();
            }

            writer.WriteLine("default:");
            writer.Indent();
            writer.WriteLine("reader.Skip();");
            writer.WriteLine("break;");
            writer.Outdent();
            writer.CloseBlock();
            writer.CloseBlock();
            writer.WriteLine();
            var creation = "return new " + model.TypeName + "(" + string.Join(", ", LocalsOf(model)) + ")";
            var initialized = new List<MemberModel>();
            foreach (var member in model.Members)
            {
                if (member.AssignInInitializer)
                {
                    initialized.Add(member);
                }
            }

            if (initialized.Count == 0)
            {
                writer.WriteLine(creation + ";");
            }
            else
            {
                writer.WriteLine(creation);
                writer.OpenBlock();
                foreach (var member in initialized)
                {
                    writer.WriteLine(member.Name + " = " + member.LocalName + ",");
                }

                writer.CloseBlock(";");
            }

            writer.CloseBlock();
            writer.WriteLine("finally");
            writer.OpenBlock();
            writer.WriteLine("reader.Depth--;");
            writer.CloseBlock();
            writer.CloseBlock();
        }

        private static IEnumerable<string> LocalsOf(FormatterTypeModel model)
        {
            foreach (var argument in model.ConstructorArguments)
            {
                foreach (var member in model.Members)
                {
                    if (member.Name == argument)
                    {
                        yield return member.LocalName;
                        break;
                    }
                }
            }
        }

        private static Dictionary<int, MemberModel> ByKey(FormatterTypeModel model)
        {
            var byKey = new Dictionary<int, MemberModel>();
            foreach (var member in model.Members)
            {
                byKey[member.Key] = member;
            }

            return byKey;
        }

        /// <summary>Emits the resolver file.</summary>
        public static string EmitResolver(ResolverModel model, CancellationToken cancellationToken)
        {
            var entries = model.Entries;
            var writer = new SourceWriter();
            writer.Write(GeneratedCode.Header);
            writer.WriteLine();
            writer.WriteLine("namespace " + ResolverNamespace);
            writer.OpenBlock();
            writer.WriteLine("/// <summary>");
            writer.WriteLine("/// The MessagePack resolver for every type this assembly's cached repositories store or log: generated");
            writer.WriteLine("/// formatters and explicitly constructed closed built-in collection formatters, composed only with");
            writer.WriteLine("/// MessagePack's leaf formatters named one by one (<see cref=\"global::CachingGen.Serialization.BuiltinLeafFormatters\"/>).");
            writer.WriteLine("/// No dynamic resolver is reachable, so Native AOT and trimming see every formatter type.");
            writer.WriteLine("/// </summary>");
            writer.WriteLine(GeneratedCode.Attribute);
            writer.WriteLine(GeneratedCode.ExcludeFromCodeCoverage);
            writer.WriteLine("internal sealed class " + ResolverName + " : global::MessagePack.IFormatterResolver, global::CachingGen.Serialization.ISchemaFingerprintProvider");
            writer.OpenBlock();
            // The table comes first so it is initialized before anything else in the static constructor.
            writer.WriteLine("private static readonly global::System.Collections.Generic.Dictionary<global::System.Type, int> Lookup = new global::System.Collections.Generic.Dictionary<global::System.Type, int>(" + FormatterParser.Invariant(entries.Count) + ")");
            writer.OpenBlock();
            for (var i = 0; i < entries.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                writer.WriteLine("{ typeof(" + entries[i].TypeName + "), " + FormatterParser.Invariant(i) + " },");
            }

            writer.CloseBlock(";");
            writer.WriteLine();
            writer.WriteLine("private static readonly ulong[] Fingerprints = new ulong[]");
            writer.OpenBlock();
            for (var i = 0; i < entries.Count; i++)
            {
                writer.WriteLine(FormatterParser.Hex(entries[i].Fingerprint) + ",");
            }

            writer.CloseBlock(";");
            writer.WriteLine();
            writer.WriteLine("/// <summary>The resolver singleton.</summary>");
            writer.WriteLine("public static readonly " + ResolverName + " Instance = new " + ResolverName + "();");
            writer.WriteLine();
            // The options' resolver must be this resolver itself, not a composite around it: the runtime finds the
            // schema fingerprints through Options.Resolver (ISchemaFingerprintProvider). The built-in fallback lives in
            // FormatterCache below instead.
            writer.WriteLine("/// <summary>Serializer options: this resolver (generated formatters, then the built-in ones); untrusted-data security.</summary>");
            // Not MessagePackSerializerOptions.Standard.WithResolver(...): touching Standard initializes StandardResolver
            // and with it every dynamic (Reflection.Emit) resolver, which Native AOT reports even when never used.
            writer.WriteLine("public static readonly " + Options + " Options = new " + Options + "(Instance)");
            writer.Indent();
            writer.WriteLine(".WithSecurity(global::MessagePack.MessagePackSecurity.UntrustedData);");
            writer.Outdent();
            writer.WriteLine();
            writer.WriteLine("private " + ResolverName + "()");
            writer.OpenBlock();
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("/// <inheritdoc/>");
            writer.WriteLine("public " + FormatterInterface + "<T>? GetFormatter<T>()");
            writer.OpenBlock();
            writer.WriteLine("return FormatterCache<T>.Formatter;");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("/// <inheritdoc/>");
            writer.WriteLine("public ulong GetSchemaFingerprint<T>()");
            writer.OpenBlock();
            writer.WriteLine("return FingerprintCache<T>.Fingerprint;");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("/// <summary>True when this resolver has a formatter (generated or explicitly constructed) for <paramref name=\"type\"/>.</summary>");
            writer.WriteLine("internal static bool IsGenerated(global::System.Type type)");
            writer.OpenBlock();
            writer.WriteLine("return Lookup.ContainsKey(type);");
            writer.CloseBlock();
            writer.WriteLine();
            // One switch of every entry would cost the compiler quadratic time in the number of entries (its decision
            // DAG), seconds for a thousand types: a first switch picks a block of SwitchBlock entries, whose own switch
            // creates the formatter. The fingerprints are a constant table.
            writer.WriteLine("private static object? CreateFormatter(global::System.Type type)");
            writer.OpenBlock();
            writer.WriteLine("if (!Lookup.TryGetValue(type, out int key))");
            writer.OpenBlock();
            writer.WriteLine("return null;");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("switch (key / " + FormatterParser.Invariant(SwitchBlock) + ")");
            writer.OpenBlock();
            var blocks = (entries.Count + SwitchBlock - 1) / SwitchBlock;
            for (var block = 0; block < blocks; block++)
            {
                writer.WriteLine("case " + FormatterParser.Invariant(block) + ": return CreateFormatter" + FormatterParser.Invariant(block) + "(key);");
            }

            writer.WriteLine("default: return null;");
            writer.CloseBlock();
            writer.CloseBlock();
            for (var block = 0; block < blocks; block++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                writer.WriteLine();
                writer.WriteLine("private static object? CreateFormatter" + FormatterParser.Invariant(block) + "(int key)");
                writer.OpenBlock();
                writer.WriteLine("switch (key)");
                writer.OpenBlock();
                for (var i = block * SwitchBlock; i < entries.Count && i < (block + 1) * SwitchBlock; i++)
                {
                    writer.WriteLine("case " + FormatterParser.Invariant(i) + ": return new " + entries[i].NewExpression + "();");
                }

                writer.WriteLine("default: return null;");
                writer.CloseBlock();
                writer.CloseBlock();
            }

            writer.WriteLine();
            writer.WriteLine("private static ulong GetFingerprint(global::System.Type type)");
            writer.OpenBlock();
            writer.WriteLine("return Lookup.TryGetValue(type, out int key) ? Fingerprints[key] : 0UL;");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("private static class FormatterCache<T>");
            writer.OpenBlock();
            writer.WriteLine("public static readonly " + FormatterInterface + "<T>? Formatter = (" + FormatterInterface + "<T>?)CreateFormatter(typeof(T)) ?? global::CachingGen.Serialization.BuiltinLeafFormatters.Get<T>();");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("private static class FingerprintCache<T>");
            writer.OpenBlock();
            writer.WriteLine("public static readonly ulong Fingerprint = GetFingerprint(typeof(T));");
            writer.CloseBlock();
            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToString();
        }
    }
}
