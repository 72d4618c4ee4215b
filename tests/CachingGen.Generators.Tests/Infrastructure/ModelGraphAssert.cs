using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Xunit.Sdk;

namespace CachingGen.Generators.Tests.Infrastructure;

/// <summary>
/// Walks a pipeline model's object graph (every instance field, recursively, and the items of arrays, enumerables
/// and EquatableArray) and fails on any Roslyn object that would pin a compilation in the generator cache:
/// <see cref="ISymbol"/>, <see cref="SyntaxNode"/>, <see cref="SyntaxTree"/>, <see cref="Location"/>,
/// <see cref="SemanticModel"/> or <see cref="Compilation"/>. Our <c>LocationInfo</c> is plain data and allowed.
/// </summary>
public static class ModelGraphAssert
{
    private static readonly Type[] Banned =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(SemanticModel), typeof(Compilation),
        typeof(SyntaxToken), typeof(SyntaxTrivia), typeof(AttributeData),
    };

    /// <summary>Fails when <paramref name="model"/> reaches a Roslyn symbol, syntax or compilation object.</summary>
    public static void NoRoslynTypes(object? model, string root = "model")
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Walk(model, root, visited, 0);
    }

    private static void Walk(object? value, string path, HashSet<object> visited, int depth)
    {
        if (value is null)
        {
            return;
        }

        var type = value.GetType();
        foreach (var banned in Banned)
        {
            if (banned.IsAssignableFrom(type))
            {
                throw new XunitException($"Model graph holds a {banned.Name} ({type.FullName}) at {path}.");
            }
        }

        if (type.IsPrimitive || type.IsEnum || value is string || value is decimal || value is Type || value is DiagnosticDescriptor
            || value is Delegate || value is Pointer)
        {
            return;
        }

        if (depth > 64)
        {
            throw new XunitException($"Model graph deeper than 64 at {path}.");
        }

        if (!type.IsValueType && !visited.Add(value))
        {
            return;
        }

        if (value is IEnumerable enumerable)
        {
            var i = 0;
            foreach (var item in enumerable)
            {
                Walk(item, $"{path}[{i++}]", visited, depth + 1);
            }
        }

        for (var current = type; current is not null && current != typeof(object); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
                {
                    continue;
                }

                Walk(field.GetValue(value), path + "." + field.Name, visited, depth + 1);
            }
        }
    }
}
