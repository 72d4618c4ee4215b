using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using CachingGen.Runtime;
using StackExchange.Redis;

namespace Preferences.Replay;

/// <summary>Where and with what a replay ran: machine, versions, stack and the exact command (credentials redacted).</summary>
internal sealed record ReplayEnvironment(
    DateTimeOffset Started,
    string Command,
    string Stack,
    string Machine,
    string Runtime,
    IReadOnlyList<(string Name, string Version)> Versions,
    string? GitCommit)
{
    /// <summary>The logical cores the client, Redis and the database share.</summary>
    public int Cores { get; init; } = Environment.ProcessorCount;

    /// <summary>The load average when the replay ended (the machine may be shared).</summary>
    public string LoadAverageAtEnd { get; init; } = "n/a";

    public static string ReadLoadAverage() => LoadAverage();

    public static ReplayEnvironment Capture(Stack stack, CommandLine commandLine)
    {
        var arguments = new List<string>();
        for (var i = 0; i < commandLine.Arguments.Count; i++)
        {
            var argument = commandLine.Arguments[i];
            arguments.Add(argument);
            if (argument is "--redis" or "--mysql" && i + 1 < commandLine.Arguments.Count)
            {
                arguments.Add("<redacted>");
                i++;
            }
        }

        var environment = new List<string>();
        if (commandLine.RedisSource == CommandLine.RedisVariable || commandLine.MySqlSource == CommandLine.MySqlVariable)
        {
            environment.Add("eval \"$(bash scripts/services.sh env)\" && ");
        }

        var command = string.Concat(environment) + "dotnet run -c Release --project samples/Preferences -- " + string.Join(' ', arguments.Select(Quote));
        var versions = new List<(string, string)>
        {
            ("CachingGen", VersionOf(typeof(CachingGenRuntime).Assembly)),
            ("StackExchange.Redis", VersionOf(typeof(ConnectionMultiplexer).Assembly)),
            ("MySqlConnector", VersionOf(typeof(MySqlConnector.MySqlConnection).Assembly)),
            ("Dapper", VersionOf(typeof(Dapper.SqlMapper).Assembly)),
            ("Microsoft.Data.Sqlite", VersionOf(typeof(Microsoft.Data.Sqlite.SqliteConnection).Assembly)),
            ("MessagePack", VersionOf(typeof(MessagePack.MessagePackSerializer).Assembly)),
        };
        if (stack.RedisServerVersion() is { } redis)
        {
            versions.Add(("Redis server", redis));
        }

        versions.Add(("Database server", stack.Database.GetServerVersionAsync(CancellationToken.None).GetAwaiter().GetResult()));

        var machine = $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}; {CpuModel()}; {Environment.ProcessorCount} logical cores; " +
            $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024):0.#} GiB; load average at start {LoadAverage()}";
        var runtime = $"{RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, " +
#if DEBUG
            "Debug build (numbers are not representative: use -c Release)";
#else
            "Release build";
#endif
        return new ReplayEnvironment(DateTimeOffset.UtcNow, command, stack.Description, machine, runtime, versions, ReadGitCommit());
    }

    private static string Quote(string argument) => argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '=' or ',')
        ? argument
        : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string VersionOf(Assembly assembly)
    {
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "?";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (UnauthorizedAccessException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    /// <summary>The checked-out commit and whether the tree had changes, when git is available.</summary>
    private static string? ReadGitCommit()
    {
        try
        {
            var commit = Git("rev-parse", "--short=12", "HEAD");
            if (commit is null)
            {
                return null;
            }

            var dirty = Git("status", "--porcelain", "--untracked-files=no");
            return string.IsNullOrEmpty(dirty) ? commit : commit + " (with uncommitted changes)";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string? Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start);
        if (process is null)
        {
            return null;
        }

        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : null;
    }
}
