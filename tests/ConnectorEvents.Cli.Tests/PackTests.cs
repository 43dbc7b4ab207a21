using ConnectorEvents.Testing;
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
        var repository = Repository.Root;
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
            var list = await ChildProcess.RunAsync(tool, ["trigger", "--list", "--version", "2025-08"], work.FullName, Limit);
            Assert.True(list.ExitCode == 0, list.Output);
            Assert.Contains("IntegrationApiKeyCreated", list.Output, StringComparison.Ordinal);
            // Ed25519 runs in libsodium, a native library the tool must carry (runtimes/<rid>/native) to sign at all.
            var keys = await ChildProcess.RunAsync(tool, ["generate-key"], work.FullName, Limit);
            Assert.True(keys.ExitCode == 0, keys.Output);
            Assert.Contains("public-key whpk_", keys.Output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    private static Task<(int ExitCode, string Output)> RunAsync(string directory, string? nugetPackages, params string[] args) =>
        ChildProcess.RunAsync(ChildProcess.Dotnet, args, directory, Limit,
            nugetPackages is null ? null : new Dictionary<string, string?> { ["NUGET_PACKAGES"] = nugetPackages });
}
