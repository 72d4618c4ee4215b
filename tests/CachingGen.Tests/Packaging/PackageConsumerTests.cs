using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace CachingGen.Tests.Packaging;

/// <summary>
/// Packs the CachingGen package and builds a consumer project against it with nothing but ONE package reference:
/// the attributes, the runtime and the generator must all arrive through it, and the generated decorator must work.
/// </summary>
public sealed class PackageConsumerTests
{
    [Fact]
    public async Task One_package_reference_brings_attributes_runtime_and_generator()
    {
        var root = Path.Combine(Path.GetTempPath(), "cachinggen-package-" + Guid.NewGuid().ToString("N"));
        var feed = Path.Combine(root, "feed");
        var consumer = Path.Combine(root, "consumer");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(consumer);

        // A unique version keeps NuGet's global package cache from serving an older build of the same version.
        var version = "0.0.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6];
        try
        {
            var project = Path.Combine(RepositoryRoot(), "src", "CachingGen", "CachingGen.csproj");
            var pack = await RunAsync("dotnet", $"pack \"{project}\" -c Release -o \"{feed}\" -p:Version={version}", RepositoryRoot());
            Assert.True(pack.ExitCode == 0, "dotnet pack failed:\n" + pack.Output);

            var package = Path.Combine(feed, $"CachingGen.{version}.nupkg");
            using (var archive = ZipFile.OpenRead(package))
            {
                var entries = archive.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("analyzers/dotnet/cs/CachingGen.Generators.dll", entries);
                Assert.Contains("lib/net8.0/CachingGen.dll", entries);
            }

            await File.WriteAllTextAsync(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="cachinggen-test-feed" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            await File.WriteAllTextAsync(Path.Combine(consumer, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="CachingGen" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            // Isolate the consumer from this repository's Directory.Build.props and central package versions.
            await File.WriteAllTextAsync(Path.Combine(consumer, "Directory.Build.props"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(consumer, "Directory.Packages.props"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(consumer, "Program.cs"), ConsumerProgram);

            var run = await RunAsync("dotnet", "run -c Release", consumer);
            Assert.True(run.ExitCode == 0, "the consumer failed to build or run:\n" + run.Output);
            Assert.Contains("read-through hit: email v1", run.Output);
            Assert.Contains("write-back flushed: push v2", run.Output);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder is harmless.
            }
        }
    }

    private const string ConsumerProgram = """
        using CachingGen;
        using CachingGen.Runtime;
        using Consumer;

        var options = new CachingGenOptions { RunWriteBackFlusher = false };
        await using var runtime = CachingGenRuntime.CreateInMemory(options);
        var database = new MemoryRepository();
        IPreferenceRepository repository = new CachedPreferenceRepository(database, runtime);

        await repository.SaveAsync(new Preference(1, "email", true, 1));
        var hit = await repository.GetAsync(1);
        Console.WriteLine($"read-through hit: {hit!.Channel} v{hit.Version} (database reads: {database.Reads})");
        if (database.Reads != 0) return 1;

        await repository.UpdateAsync(new Preference(1, "push", true, 2));
        await runtime.WriteBack.FlushAsync();
        Console.WriteLine($"write-back flushed: {database.Rows[1].Channel} v{database.Rows[1].Version}");
        return 0;

        namespace Consumer
        {
            public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);

            [CachedRepository(KeyPrefix = "pref")]
            public interface IPreferenceRepository
            {
                [Cached(Ttl = 300)] ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);
                [WriteThrough] Task SaveAsync(Preference preference, CancellationToken ct = default);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, CancellationToken ct = default);
            }

            public sealed class MemoryRepository : IPreferenceRepository
            {
                public Dictionary<long, Preference> Rows { get; } = new();
                public int Reads { get; private set; }
                public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
                {
                    Reads++;
                    return new(Rows.GetValueOrDefault(userId));
                }
                public Task SaveAsync(Preference preference, CancellationToken ct = default) { Rows[preference.UserId] = preference; return Task.CompletedTask; }
                public Task UpdateAsync(Preference preference, CancellationToken ct = default) => SaveAsync(preference, ct);
            }
        }
        """;

    private static string RepositoryRoot([CallerFilePath] string thisFile = "")
    {
        var directory = new DirectoryInfo(Path.GetDirectoryName(thisFile)!);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CachingGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("CachingGen.sln not found above " + thisFile);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A nested build must not reuse the outer test run's MSBuild node or its properties.
        start.Environment["MSBUILDNOINPROCNODE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBuildSDKsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName);
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }
}
