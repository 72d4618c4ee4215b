using System.Diagnostics;
using System.Reflection;

namespace CachingGen.IntegrationTests.Support;

/// <summary>Runs the built samples/Preferences as a process, as a user would (same configuration as these tests).</summary>
internal static class SampleProcess
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string[] Lines => Output.Split('\n', StringSplitOptions.TrimEntries);
    }

    /// <summary>Runs the sample with <paramref name="arguments"/>; without <paramref name="inheritServers"/> the
    /// CACHINGGEN_REDIS / CACHINGGEN_MYSQL variables are removed from its environment.</summary>
    public static async Task<Result> RunAsync(bool inheritServers, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(SamplePath());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (!inheritServers)
        {
            start.Environment.Remove(StackEnvironment.RedisVariable);
            start.Environment.Remove(StackEnvironment.MySqlVariable);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Preferences {string.Join(' ', arguments)} did not finish in 2 minutes");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    private static string SamplePath()
    {
        var configuration = typeof(SampleProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CachingGen.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException($"CachingGen.sln not found above {AppContext.BaseDirectory}");
        }

        var path = Path.Combine(directory.FullName, "samples", "Preferences", "bin", configuration, "net10.0", "Preferences.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The Preferences sample is not built ({path}); build the test project, which builds it first.", path);
    }
}
