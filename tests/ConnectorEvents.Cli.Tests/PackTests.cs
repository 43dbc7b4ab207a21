using System.Diagnostics;
using System.Text;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

/// <summary>The tool packs and installs the way users get it: <c>dotnet pack</c>, then <c>dotnet tool install --tool-path</c>.</summary>
[Collection(PackingCollection.Name)]
public sealed class PackTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Fact]
    public async Task The_tool_packs_installs_and_runs()
    {
        var repository = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("ce-cli-pack-");
        try
        {
            var packages = Path.Combine(work.FullName, "nupkg");
            var tools = Path.Combine(work.FullName, "tools");
            // The test project built the CLI already, so packing needs no build.
            var pack = await RunAsync(repository, null, "pack", Path.Combine("src", "ConnectorEvents.Cli", "ConnectorEvents.Cli.csproj"),
                "-c", Configuration, "--no-build", "-o", packages);
            Assert.True(pack.ExitCode == 0, pack.Output);
            Assert.Single(Directory.GetFiles(packages, "ConnectorEvents.Cli.*.nupkg"));

            // A private package folder, so a stale cached 0.1.0 from an earlier run is never installed instead.
            var install = await RunAsync(work.FullName, Path.Combine(work.FullName, "nuget-cache"),
                "tool", "install", "--tool-path", tools, "--add-source", packages, "ConnectorEvents.Cli");
            Assert.True(install.ExitCode == 0, install.Output);

            var tool = Path.Combine(tools, OperatingSystem.IsWindows() ? "connector-events.exe" : "connector-events");
            var list = await RunProcessAsync(tool, work.FullName, null, ["trigger", "--list", "--version", "2025-08"]);
            Assert.True(list.ExitCode == 0, list.Output);
            Assert.Contains("IntegrationApiKeyCreated", list.Output, StringComparison.Ordinal);
            // Ed25519 runs in libsodium, a native library the tool must carry (runtimes/<rid>/native) to sign at all.
            var keys = await RunProcessAsync(tool, work.FullName, null, ["generate-key"]);
            Assert.True(keys.ExitCode == 0, keys.Output);
            Assert.Contains("public-key whpk_", keys.Output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ConnectorEvents.slnx")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException("ConnectorEvents.slnx not found above " + AppContext.BaseDirectory);
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string directory, string? nugetPackages, params string[] args) =>
        RunProcessAsync(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet",
            directory, nugetPackages, args);

    /// <summary>Runs a process to its end, killing it after 90 s; returns its exit code and everything it printed.</summary>
    private static async Task<(int ExitCode, string Output)> RunProcessAsync(string fileName, string directory, string? nugetPackages,
        IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (nugetPackages is not null)
        {
            start.Environment["NUGET_PACKAGES"] = nugetPackages;
        }
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var reading = Task.WhenAll(Collect(process.StandardOutput), Collect(process.StandardError));

        async Task Collect(StreamReader reader)
        {
            var text = await reader.ReadToEndAsync();
            lock (output)
            {
                output.Append(text);
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} took over 90 s.");
        }
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}
