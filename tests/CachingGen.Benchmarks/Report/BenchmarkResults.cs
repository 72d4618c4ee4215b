using System.Reflection;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Report;

/// <summary>One measured benchmark case, read from BenchmarkDotNet's full JSON export.</summary>
/// <param name="Type">The benchmark class (short name).</param>
/// <param name="Method">The benchmark method.</param>
/// <param name="Title">The method's description.</param>
/// <param name="Parameters">The parameter values, e.g. <c>Outcome=Hit&amp;Callers=1</c>; empty when none.</param>
/// <param name="MedianNanoseconds">The median time of one operation; null when the case failed.</param>
/// <param name="MeanNanoseconds">The mean time of one operation.</param>
/// <param name="StandardDeviationNanoseconds">The standard deviation of the iterations.</param>
/// <param name="AllocatedBytes">Bytes allocated per operation; null when unknown.</param>
/// <param name="IsBaseline">Whether this is the class's baseline method.</param>
public sealed record CaseResult(
    string Type, string Method, string Title, string Parameters,
    double? MedianNanoseconds, double? MeanNanoseconds, double? StandardDeviationNanoseconds, long? AllocatedBytes, bool IsBaseline)
{
    /// <summary>Standard deviation over mean: how much the iterations of this case scattered.</summary>
    public double? Spread => StandardDeviationNanoseconds is { } deviation && MeanNanoseconds is { } mean && mean > 0 ? deviation / mean : null;
}

/// <summary>The results of one benchmark class and the machine it ran on.</summary>
public sealed record ClassResults(string Type, IReadOnlyList<CaseResult> Cases, HostInfo Host)
{
    /// <summary>The parameter groups, in the order they were run; each has its own baseline.</summary>
    public IEnumerable<IGrouping<string, CaseResult>> Groups => Cases.GroupBy(c => c.Parameters, StringComparer.Ordinal);

    public CaseResult? Find(string method, string parameters = "")
        => Cases.FirstOrDefault(c => c.Method == method && c.Parameters == parameters);

    /// <summary>Median of <paramref name="method"/> over the median of the group's baseline.</summary>
    public double? Ratio(CaseResult result)
    {
        var baseline = Cases.FirstOrDefault(c => c.IsBaseline && c.Parameters == result.Parameters);
        return result.MedianNanoseconds is { } value && baseline?.MedianNanoseconds is { } reference && reference > 0 ? value / reference : null;
    }

    public double? Ratio(string method, string otherMethod, string parameters = "")
        => Find(method, parameters)?.MedianNanoseconds is { } a && Find(otherMethod, parameters)?.MedianNanoseconds is { } b && b > 0 ? a / b : null;
}

/// <summary>What BenchmarkDotNet says about the machine and the toolchain.</summary>
public sealed record HostInfo(string Processor, int PhysicalCores, int LogicalCores, string Os, string Runtime, string Sdk, string BenchmarkDotNet);

/// <summary>Reads <c>*-report-full.json</c> files.</summary>
public static class BenchmarkResults
{
    public static IReadOnlyDictionary<string, ClassResults> Read(string directory)
    {
        var classes = new Dictionary<string, ClassResults>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return classes;
        }

        foreach (var path in Directory.GetFiles(directory, "*-report-full.json").OrderBy(p => p, StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            var host = root.GetProperty("HostEnvironmentInfo");
            var hostInfo = new HostInfo(
                Text(host, "ProcessorName"), Int(host, "PhysicalCoreCount"), Int(host, "LogicalCoreCount"), Text(host, "OsVersion"),
                Text(host, "RuntimeVersion"), Text(host, "DotNetCliVersion"), Text(host, "BenchmarkDotNetVersion"));
            var cases = new List<CaseResult>();
            string? typeName = null;
            foreach (var benchmark in root.GetProperty("Benchmarks").EnumerateArray())
            {
                typeName = Text(benchmark, "Type");
                var method = Text(benchmark, "Method");
                var statistics = benchmark.TryGetProperty("Statistics", out var s) && s.ValueKind == JsonValueKind.Object ? s : (JsonElement?)null;
                var memory = benchmark.TryGetProperty("Memory", out var m) && m.ValueKind == JsonValueKind.Object ? m : (JsonElement?)null;
                cases.Add(new CaseResult(
                    typeName,
                    method,
                    Text(benchmark, "MethodTitle").Trim('\''),
                    Text(benchmark, "Parameters"),
                    statistics?.GetProperty("Median").GetDouble(),
                    statistics?.GetProperty("Mean").GetDouble(),
                    statistics?.GetProperty("StandardDeviation").GetDouble(),
                    memory?.GetProperty("BytesAllocatedPerOperation").GetInt64(),
                    IsBaseline(typeName, method)));
            }

            if (typeName is not null)
            {
                classes[typeName] = new ClassResults(typeName, cases, hostInfo);
            }
        }

        return classes;
    }

    private static bool IsBaseline(string type, string method)
        => SuiteRunner.BenchmarkTypes.FirstOrDefault(t => t.Name == type)?.GetMethod(method)?.GetCustomAttribute<BenchmarkAttribute>()?.Baseline == true;

    private static string Text(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;

    private static int Int(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : 0;
}
