using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Sdk;

namespace CachingGen.Generators.Tests.Infrastructure;

/// <summary>
/// Incremental-caching assertions for any generator with <c>WithTrackingName</c> steps: an unrelated edit must
/// leave every tracked output Cached or Unchanged; a real edit must produce Modified or New outputs. Every tracked
/// output of every run is also checked with <see cref="ModelGraphAssert.NoRoslynTypes"/>.
/// </summary>
public static class IncrementalAssert
{
    /// <summary>The unrelated file added by <see cref="CachedAfterUnrelatedEdit"/>.</summary>
    public const string UnrelatedSource = "namespace Unrelated { internal static class Edit { public static int Value => 42; } }";

    /// <summary>
    /// Runs <paramref name="generators"/> over <paramref name="sources"/>, then again after adding an unrelated
    /// syntax tree, and again after changing that tree; asserts every output of each <paramref name="trackingNames"/>
    /// step is Cached or Unchanged on the later runs. Returns the final run.
    /// </summary>
    public static GeneratorResult CachedAfterUnrelatedEdit(IIncrementalGenerator[] generators, IReadOnlyList<string> trackingNames, params string[] sources)
    {
        var compilation = GeneratorHarness.CreateCompilation(sources);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(generators), compilation);
        AssertTrackedOutputsHaveNoRoslynTypes(first, trackingNames);
        AssertStepsPresent(first, trackingNames);

        var added = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(UnrelatedSource, GeneratorHarness.ParseOptions, path: "Unrelated.cs"));
        var second = GeneratorHarness.Run(first.Driver, added);
        AssertCachedOrUnchanged(second, trackingNames);

        var oldTree = added.SyntaxTrees.Single(t => t.FilePath == "Unrelated.cs");
        var changed = added.ReplaceSyntaxTree(oldTree, CSharpSyntaxTree.ParseText(UnrelatedSource.Replace("42", "43"), GeneratorHarness.ParseOptions, path: "Unrelated.cs"));
        var third = GeneratorHarness.Run(second.Driver, changed);
        AssertCachedOrUnchanged(third, trackingNames);
        Assert.Equal(first.Sources, third.Sources);
        return third;
    }

    /// <summary>
    /// Runs over <paramref name="before"/>, then over <paramref name="after"/> (same number of sources; the
    /// differing ones are replaced), and asserts at least one output of the tracked steps is Modified or New.
    /// </summary>
    public static GeneratorResult ModifiedAfterEdit(IIncrementalGenerator[] generators, IReadOnlyList<string> trackingNames, string[] before, string[] after)
    {
        Assert.Equal(before.Length, after.Length);
        var compilation = GeneratorHarness.CreateCompilation(before);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(generators), compilation);
        var edited = compilation;
        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] != after[i])
            {
                var oldTree = edited.SyntaxTrees.Single(t => t.FilePath == "Source" + i + ".cs");
                edited = edited.ReplaceSyntaxTree(oldTree, CSharpSyntaxTree.ParseText(after[i], GeneratorHarness.ParseOptions, path: oldTree.FilePath));
            }
        }

        var second = GeneratorHarness.Run(first.Driver, edited);
        AssertTrackedOutputsHaveNoRoslynTypes(second, trackingNames);
        AssertSomeModified(second, trackingNames);
        return second;
    }

    /// <summary>Asserts every output of the named steps is Cached or Unchanged.</summary>
    public static void AssertCachedOrUnchanged(GeneratorResult run, IReadOnlyList<string> trackingNames)
    {
        AssertStepsPresent(run, trackingNames);
        AssertTrackedOutputsHaveNoRoslynTypes(run, trackingNames);
        var steps = run.TrackedSteps;
        var bad = new List<string>();
        foreach (var name in trackingNames)
        {
            foreach (var step in steps[name])
            {
                foreach (var (value, reason) in step.Outputs)
                {
                    if (reason != IncrementalStepRunReason.Cached && reason != IncrementalStepRunReason.Unchanged)
                    {
                        bad.Add($"{name}: {reason} ({value})");
                    }
                }
            }
        }

        if (bad.Count > 0)
        {
            throw new XunitException("Tracked steps re-ran after an unrelated edit:\n" + string.Join("\n", bad));
        }
    }

    /// <summary>Asserts some output of the named steps is Modified or New.</summary>
    public static void AssertSomeModified(GeneratorResult run, IReadOnlyList<string> trackingNames)
    {
        var steps = run.TrackedSteps;
        var reasons = trackingNames.Where(steps.ContainsKey)
            .SelectMany(name => steps[name].SelectMany(s => s.Outputs.Select(o => name + ": " + o.Reason)))
            .ToList();
        if (!trackingNames.Where(steps.ContainsKey).Any(name => steps[name].Any(s => s.Outputs.Any(o =>
                o.Reason is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New))))
        {
            throw new XunitException("Expected a Modified or New output after a real edit; got:\n" + string.Join("\n", reasons));
        }
    }

    /// <summary>Runs <see cref="ModelGraphAssert.NoRoslynTypes"/> over every output of the named steps.</summary>
    public static void AssertTrackedOutputsHaveNoRoslynTypes(GeneratorResult run, IReadOnlyList<string> trackingNames)
    {
        var steps = run.TrackedSteps;
        foreach (var name in trackingNames.Where(steps.ContainsKey))
        {
            foreach (var step in steps[name])
            {
                foreach (var (value, _) in step.Outputs)
                {
                    ModelGraphAssert.NoRoslynTypes(value, name);
                }
            }
        }
    }

    private static void AssertStepsPresent(GeneratorResult run, IReadOnlyList<string> trackingNames)
    {
        var steps = run.TrackedSteps;
        var missing = trackingNames.Where(n => !steps.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new XunitException("Tracked steps did not run: " + string.Join(", ", missing) + " (present: " + string.Join(", ", steps.Keys) + ")");
        }
    }
}
