using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace CachingGen.Generators.Tests.Infrastructure;

/// <summary>
/// Golden-file assertions. <c>Snapshots/{name}.verified.cs</c> holds the expected text; a mismatch writes
/// <c>{name}.received.cs</c> beside it and fails with a line diff. Set <c>CACHINGGEN_ACCEPT_SNAPSHOTS=1</c> to
/// overwrite the verified file instead (and delete any received file). Newlines are normalized to <c>\n</c> and
/// the generator version in <c>[GeneratedCode]</c> is scrubbed so version bumps do not churn snapshots.
/// </summary>
public static partial class Snapshot
{
    /// <summary>The environment variable that accepts received output.</summary>
    public const string AcceptVariable = "CACHINGGEN_ACCEPT_SNAPSHOTS";

    /// <summary>Compares <paramref name="actual"/> with the verified snapshot <paramref name="name"/>.</summary>
    public static void Verify(string name, string actual, [CallerFilePath] string callerFilePath = "")
    {
        var directory = SnapshotDirectory(callerFilePath);
        var verifiedPath = Path.Combine(directory, name + ".verified.cs");
        var receivedPath = Path.Combine(directory, name + ".received.cs");
        var normalized = Scrub(actual);
        var accept = Environment.GetEnvironmentVariable(AcceptVariable) == "1";

        if (accept)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(verifiedPath)!);
            File.WriteAllText(verifiedPath, normalized, new UTF8Encoding(false));
            if (File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }

            return;
        }

        if (!File.Exists(verifiedPath))
        {
            File.WriteAllText(receivedPath, normalized, new UTF8Encoding(false));
            throw new XunitException($"Snapshot '{name}' has no verified file ({verifiedPath}). Received output written to {receivedPath}; review it and rerun with {AcceptVariable}=1 to accept.");
        }

        var expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == normalized)
        {
            if (File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }

            return;
        }

        File.WriteAllText(receivedPath, normalized, new UTF8Encoding(false));
        throw new XunitException($"Snapshot '{name}' differs from {verifiedPath} (received: {receivedPath}).\n{Diff(expected, normalized)}\nRerun with {AcceptVariable}=1 to accept.");
    }

    /// <summary>Normalizes newlines and scrubs the generator version.</summary>
    public static string Scrub(string text)
        => GeneratedCodeVersion().Replace(Normalize(text), "GeneratedCodeAttribute(\"$1\", \"VERSION\")");

    /// <summary>A readable diff: the first differing region with three lines of context, plus line counts.</summary>
    public static string Diff(string expected, string actual)
    {
        var left = expected.Split('\n');
        var right = actual.Split('\n');
        var first = 0;
        while (first < left.Length && first < right.Length && left[first] == right[first])
        {
            first++;
        }

        var leftEnd = left.Length - 1;
        var rightEnd = right.Length - 1;
        while (leftEnd >= first && rightEnd >= first && left[leftEnd] == right[rightEnd])
        {
            leftEnd--;
            rightEnd--;
        }

        const int Context = 3;
        const int MaxLines = 40;
        var builder = new StringBuilder();
        builder.Append("@@ -").Append(first + 1).Append(" +").Append(first + 1).Append(" @@ (expected ")
            .Append(left.Length).Append(" lines, received ").Append(right.Length).Append(" lines)\n");
        for (var i = Math.Max(0, first - Context); i < first; i++)
        {
            builder.Append("  ").Append(left[i]).Append('\n');
        }

        for (var i = first; i <= leftEnd && i < first + MaxLines; i++)
        {
            builder.Append("- ").Append(left[i]).Append('\n');
        }

        for (var i = first; i <= rightEnd && i < first + MaxLines; i++)
        {
            builder.Append("+ ").Append(right[i]).Append('\n');
        }

        for (var i = leftEnd + 1; i < left.Length && i <= leftEnd + Context; i++)
        {
            builder.Append("  ").Append(left[i]).Append('\n');
        }

        return builder.ToString();
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

    private static string SnapshotDirectory(string callerFilePath)
    {
        var projectDirectory = typeof(Snapshot).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CachingGen.Tests.ProjectDirectory")?.Value;
        if (string.IsNullOrEmpty(projectDirectory) || !Directory.Exists(projectDirectory))
        {
            // Fall back to the caller's source file: walk up to the directory holding the test project file.
            var directory = Path.GetDirectoryName(callerFilePath);
            while (directory is not null && !File.Exists(Path.Combine(directory, "CachingGen.Generators.Tests.csproj")))
            {
                directory = Path.GetDirectoryName(directory);
            }

            projectDirectory = directory ?? throw new InvalidOperationException("Cannot locate the test project directory.");
        }

        return Path.Combine(projectDirectory, "Snapshots");
    }

    [GeneratedRegex("GeneratedCodeAttribute\\(\"([^\"]+)\", \"[^\"]*\"\\)")]
    private static partial Regex GeneratedCodeVersion();
}
