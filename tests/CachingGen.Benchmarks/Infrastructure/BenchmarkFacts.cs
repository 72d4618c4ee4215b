using System.Collections.Concurrent;
using System.Text.Json;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>
/// Facts a benchmark establishes besides time and memory (bytes on the wire, inner calls per stampede), written next
/// to BenchmarkDotNet's results as <c>facts.json</c> so the report can show them. The benchmarks run in-process, so
/// one static table sees them all.
/// </summary>
public static class BenchmarkFacts
{
    public const string FileName = "facts.json";

    private static readonly ConcurrentDictionary<string, string> Facts = new(StringComparer.Ordinal);

    public static void Set(string name, string value) => Facts[name] = value;

    public static void Max(string name, long value)
        => Facts.AddOrUpdate(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            (_, old) => Math.Max(long.Parse(old, System.Globalization.CultureInfo.InvariantCulture), value).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Writes the facts of this run; with <paramref name="merge"/> (a partial run) over those already there.</summary>
    public static void Write(string directory, bool merge = false)
    {
        Directory.CreateDirectory(directory);
        var sorted = merge ? new SortedDictionary<string, string>(Read(directory).ToDictionary(), StringComparer.Ordinal) : new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in Facts)
        {
            sorted[name] = value;
        }

        File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(sorted, BenchmarkFactsJson.Default.SortedDictionaryStringString));
    }

    public static IReadOnlyDictionary<string, string> Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        return File.Exists(path)
            ? JsonSerializer.Deserialize(File.ReadAllText(path), BenchmarkFactsJson.Default.SortedDictionaryStringString) ?? new SortedDictionary<string, string>()
            : new SortedDictionary<string, string>();
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SortedDictionary<string, string>))]
internal sealed partial class BenchmarkFactsJson : System.Text.Json.Serialization.JsonSerializerContext
{
}
