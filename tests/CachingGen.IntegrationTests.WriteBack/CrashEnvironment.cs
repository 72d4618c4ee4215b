using System.Diagnostics;

namespace CachingGen.IntegrationTests.WriteBack;

/// <summary>What the crash tests need: CACHINGGEN_MYSQL (the shared MariaDB, for unique tables), redis-server on PATH
/// (each test starts its own), CACHINGGEN_SERVICES_SCRIPT (to start a private MariaDB for the outage test, on
/// CACHINGGEN_PRIVATE_MYSQL_PORT, default 6419, in CACHINGGEN_PRIVATE_SERVICES_DIR).</summary>
internal static class CrashEnvironment
{
    public static string? MySql => Value("CACHINGGEN_MYSQL");

    public static string? ServicesScript => Value("CACHINGGEN_SERVICES_SCRIPT");

    public static string RequireMySql() => MySql ?? throw new InvalidOperationException(
        "CACHINGGEN_MYSQL is not set: the write-back crash tests run against real servers. Run scripts/test.sh, or `bash scripts/services.sh start` and eval \"$(bash scripts/services.sh env)\".");

    public static string RequireServicesScript() => ServicesScript ?? throw new InvalidOperationException(
        "CACHINGGEN_SERVICES_SCRIPT is not set: the database outage test starts a private MariaDB through scripts/services.sh. Run scripts/test.sh, or eval \"$(bash scripts/services.sh env)\".");

    /// <summary>The seed of a run: CACHINGGEN_CRASH_SEED to repeat one, else random. Every test prints it.</summary>
    public static int Seed() => int.TryParse(Environment.GetEnvironmentVariable("CACHINGGEN_CRASH_SEED"), out var seed) ? seed : Random.Shared.Next(1, int.MaxValue);

    /// <summary>The sample flusher built next to this test (same configuration).</summary>
    public static string FlusherAssembly()
    {
        var here = AppContext.BaseDirectory;
        var directory = new DirectoryInfo(here);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CachingGen.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException($"Could not find the repository root above {here}.");
        }

        var configuration = here.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var path = Path.Combine(directory.FullName, "samples", "WriteBackFlusher", "bin", configuration, "net10.0", "WriteBackFlusher.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The sample flusher is not built at {path}; build samples/WriteBackFlusher -c {configuration}.", path);
    }

    /// <summary>Runs scripts/services.sh with extra environment; throws when it fails.</summary>
    public static void RunServices(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(RequireServicesScript());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"services.sh {string.Join(' ', arguments)} did not finish in 120 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"services.sh {string.Join(' ', arguments)} failed ({process.ExitCode}): {stdout.Result}{stderr.Result}");
        }
    }

    private static string? Value(string name) => string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name)) ? null : Environment.GetEnvironmentVariable(name);
}

/// <summary>A crash test. It never skips: without real servers it proves nothing, so a machine without them fails
/// it with a message that says how to run it (scripts/test.sh starts the servers).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CrashFactAttribute : FactAttribute
{
}

/// <summary>The crash tests run one at a time: each starts servers and child processes, and the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CrashCollection
{
    public const string Name = "Write-back crash tests";
}
