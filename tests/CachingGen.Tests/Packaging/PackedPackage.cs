using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace CachingGen.Tests.Packaging;

/// <summary>
/// The CachingGen package, packed once for all consumer tests into a local feed with a unique version (so NuGet's
/// global package cache never serves an older build), and the means to build consumer projects against it.
/// </summary>
public sealed class PackedPackage : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cachinggen-package-" + Guid.NewGuid().ToString("N"));

    /// <summary>The package version.</summary>
    public string Version { get; } = "0.0.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6];

    /// <summary>The folder that holds the package (a NuGet feed).</summary>
    public string Feed => Path.Combine(_root, "feed");

    /// <summary>The .nupkg file.</summary>
    public string PackagePath => Path.Combine(Feed, $"CachingGen.{Version}.nupkg");

    /// <summary>The output of <c>dotnet pack</c>.</summary>
    public string PackOutput { get; private set; } = string.Empty;

    /// <summary>Whether <c>dotnet pack</c> succeeded (tests assert it, with <see cref="PackOutput"/>).</summary>
    public bool Packed { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        var project = Path.Combine(RepositoryRoot(), "src", "CachingGen", "CachingGen.csproj");
        var pack = await RunAsync("dotnet", $"pack \"{project}\" -c Release -o \"{Feed}\" -p:Version={Version}", RepositoryRoot());
        PackOutput = pack.Output;
        Packed = pack.ExitCode == 0 && File.Exists(PackagePath);
    }

    /// <inheritdoc/>
    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }

        return Task.CompletedTask;
    }

    /// <summary>The package's file names.</summary>
    public IReadOnlyList<string> Entries()
    {
        using var archive = ZipFile.OpenRead(PackagePath);
        return archive.Entries.Select(e => e.FullName).ToList();
    }

    /// <summary>Extracts the files under <paramref name="folder"/> of the package into a new directory and returns it.</summary>
    public string Extract(string folder)
    {
        var target = Path.Combine(_root, "extracted-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(target);
        using var archive = ZipFile.OpenRead(PackagePath);
        foreach (var entry in archive.Entries.Where(e => e.FullName.StartsWith(folder + "/", StringComparison.Ordinal)))
        {
            entry.ExtractToFile(Path.Combine(target, entry.Name));
        }

        return target;
    }

    /// <summary>
    /// Creates a consumer project that references the package (and <paramref name="extraPackages"/>), isolated from this
    /// repository's Directory.Build.props and central package versions, with <paramref name="files"/> in it.
    /// </summary>
    public async Task<string> CreateConsumerAsync(string name, string properties, IReadOnlyDictionary<string, string> files, string extraPackages = "")
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="cachinggen-test-feed" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="CachingGen" Version="{Version}" />
                {extraPackages}
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(directory, "Directory.Build.props"), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(directory, "Directory.Packages.props"), "<Project />");
        foreach (var (file, content) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, file), content);
        }

        return directory;
    }

    /// <summary>Runs a process to completion (at most 8 minutes) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string arguments, string workingDirectory)
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

    private static string RepositoryRoot([CallerFilePath] string thisFile = "")
    {
        var directory = new DirectoryInfo(Path.GetDirectoryName(thisFile)!);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CachingGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("CachingGen.sln not found above " + thisFile);
    }
}
