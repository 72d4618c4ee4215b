using CachingGen.Generators.Common;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Common;

/// <summary>
/// <see cref="TypeNames"/> writes common type names itself instead of calling Roslyn's display (a hot path of every
/// incremental run). Generated code must not change, so every name it writes must be exactly Roslyn's, for every
/// type shape a user can write: compared here over all member, parameter and return types of a source that has them all.
/// </summary>
public sealed class TypeNamesTests
{
    private const string Source = """
        #nullable enable
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;

        public sealed class InGlobalNamespace { }

        namespace @class.Data
        {
            public sealed class @event { }
        }

        namespace Shapes.Deep.Er
        {
            public enum Tier : byte { Low, High }

            public sealed record Entity(long Id, string? Name);

            public readonly record struct Point(int X, int Y);

            public sealed class Outer<T>
            {
                public sealed class Inner { }

                public sealed class Generic<U> { }
            }

            public sealed class Nested
            {
                public sealed class Child
                {
                    public struct Leaf { }
                }
            }

            public sealed class record { }

            public sealed class Ünïcode { }

            public interface IAll<TParam> where TParam : class
            {
                object A1(object? a, string b, string? c, bool d, char e, sbyte f, byte g, short h, ushort i, int j, uint k);
                void A2(long a, ulong b, decimal c, float d, double e, nint f, nuint g, IntPtr h, UIntPtr i, DateTime j, Guid k);
                Task<Entity?> B1(int? a, Tier? b, Point? c, Point d, Nested.Child.Leaf? e, Nested.Child.Leaf f, CancellationToken g);
                ValueTask<IReadOnlyList<Entity>> B2(List<Entity?> a, List<Entity>? b, Dictionary<string, List<int?>> c, IDictionary<Guid, Entity?[]>? d);
                Task B3(int[] a, int[]? b, string?[] c, string?[]? d, int[][] e, int[,] f, Entity[] g, Point?[] h, byte[] i);
                Task B4((int, string) a, (int Id, string? Name) b, ValueTuple<int> c, ValueTuple d, (Entity, Entity?)? e, List<(int A, int B)> f);
                Task B5(TParam a, TParam? b, List<TParam> c, Outer<TParam>.Inner d, Outer<int>.Inner e, Outer<string?>.Generic<Entity[]> f);
                Task B6(dynamic a, List<dynamic> b, InGlobalNamespace c, global::@class.Data.@event d, record e, Ünïcode f, Missing g, List<Missing> h);
                unsafe void B7(int* a, delegate*<int, void> b);
                Task<T> B8<T>(T a, T[] b, List<T?> c) where T : struct;
                Func<int, Task<string?>> C1(Action<Entity> a, Predicate<string?> b, Lazy<Nested.Child> c, KeyValuePair<long, Tier> d);
                Task<Nullable<int>> C2(Nullable<Point> a, IEnumerable<int?> b, IReadOnlyDictionary<Tier, Point?> c, Outer<Point?>.Inner d);
                Type C3(Version a, Uri b, TimeSpan c, DateTimeOffset d, System.Text.StringBuilder e, System.Numerics.BigInteger f);
            }
        }

        #nullable disable
        namespace Oblivious
        {
            public interface ILegacy
            {
                string A(object a, System.Collections.Generic.List<string> b, int[] c, string[] d, int? e);
            }
        }
        """;

    public static TheoryData<string> Formats => new() { "Global", "GlobalWithoutNullable", "ErrorMessage" };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_type_is_named_exactly_as_Roslyn_names_it(string format)
    {
        var compilation = GeneratorHarness.CreateCompilation(Source)
            .WithOptions(GeneratorHarness.CreateCompilation().Options.WithAllowUnsafe(true));
        var types = TypesOf(compilation).ToList();
        Assert.True(types.Count > 150, "the source should yield every shape: " + types.Count);

        var mismatches = new List<string>();
        foreach (var type in types)
        {
            var (ours, roslyn) = format switch
            {
                "Global" => (TypeNames.Global(type), type.ToDisplayString(TypeNames.GlobalFormat)),
                "GlobalWithoutNullable" => (TypeNames.GlobalWithoutNullable(type), type.ToDisplayString(TypeNames.GlobalWithoutNullableFormat)),
                _ => (TypeNames.ErrorMessage(type), type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat)),
            };
            if (ours != roslyn)
            {
                mismatches.Add(roslyn + " written as " + ours);
            }
        }

        Assert.Empty(mismatches);
    }

    /// <summary>Every parameter, return and member type in the source, their type arguments and element types, and
    /// the types and base types those name, all recursively.</summary>
    private static IEnumerable<ITypeSymbol> TypesOf(Compilation compilation)
    {
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.IncludeNullability);
        var pending = new Stack<ITypeSymbol>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (model.GetDeclaredSymbol(node) is INamedTypeSymbol declared)
                {
                    pending.Push(declared);
                    foreach (var member in declared.GetMembers())
                    {
                        switch (member)
                        {
                            case IMethodSymbol method:
                                pending.Push(method.ReturnType);
                                foreach (var parameter in method.Parameters)
                                {
                                    pending.Push(parameter.Type);
                                }

                                break;
                            case IPropertySymbol property:
                                pending.Push(property.Type);
                                break;
                            case IFieldSymbol field:
                                pending.Push(field.Type);
                                break;
                        }
                    }
                }
            }
        }

        while (pending.Count > 0)
        {
            var type = pending.Pop();
            if (!seen.Add(type))
            {
                continue;
            }

            yield return type;
            switch (type)
            {
                case IArrayTypeSymbol array:
                    pending.Push(array.ElementType);
                    break;
                case IPointerTypeSymbol pointer:
                    pending.Push(pointer.PointedAtType);
                    break;
                case INamedTypeSymbol named:
                    foreach (var argument in named.TypeArguments)
                    {
                        pending.Push(argument);
                    }

                    if (named.ContainingType is not null)
                    {
                        pending.Push(named.ContainingType);
                    }

                    if (named.BaseType is not null)
                    {
                        pending.Push(named.BaseType);
                    }

                    pending.Push(named.OriginalDefinition);
                    pending.Push(named.WithNullableAnnotation(NullableAnnotation.Annotated));
                    break;
            }
        }
    }
}
