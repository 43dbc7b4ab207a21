using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// The server as README "Deploying" publishes it, framework-dependent and self-contained for linux-x64, started from
/// the published folder with production settings: ready, serving the API on SQLite with Ed25519 keys (libsodium), and
/// stopping with exit code 0 on SIGTERM. Publishing does not depend on the storage: test.sh leaves it out of its PostgreSQL pass.
/// </summary>
public sealed class PublishTests(PublishedServer published) : IClassFixture<PublishedServer>
{
    [Fact]
    public async Task The_framework_dependent_output_runs_with_dotnet_and_stops_cleanly_on_SIGTERM()
    {
        var output = published.FrameworkDependent;
        // Native libraries for every RID come along; the host picks linux-x64's.
        Assert.True(File.Exists(Path.Combine(output, "runtimes", "linux-x64", "native", "libsodium.so")));
        Assert.True(File.Exists(Path.Combine(output, "runtimes", "linux-x64", "native", "libe_sqlite3.so")));
        await RunPublishedAsync(ChildProcess.Dotnet, [Path.Combine(output, "ConnectorEvents.Server.dll")], new Dictionary<string, string?>());
    }

    [Fact]
    public async Task The_self_contained_output_runs_without_an_installed_runtime_and_stops_cleanly_on_SIGTERM()
    {
        var output = published.SelfContained;
        foreach (var file in new[] { "ConnectorEvents.Server", "libhostfxr.so", "libcoreclr.so", "libsodium.so", "libe_sqlite3.so" })
        {
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} is not in the self-contained output.");
        }
        // The runtime is in the folder, not referenced as an installed framework.
        var runtimeConfig = await File.ReadAllTextAsync(Path.Combine(output, "ConnectorEvents.Server.runtimeconfig.json"),
            TestContext.Current.CancellationToken);
        Assert.Contains("\"includedFrameworks\"", runtimeConfig, StringComparison.Ordinal);
        await RunPublishedAsync(Path.Combine(output, "ConnectorEvents.Server"), [], new Dictionary<string, string?>
        {
            ["DOTNET_ROOT"] = "/nonexistent",
        });
    }

    private static async Task RunPublishedAsync(string fileName, string[] args, Dictionary<string, string?> environment)
    {
        var data = ServerProcess.NewDataDirectory("published");
        var workingDirectory = Directory.CreateTempSubdirectory("ce-published-cwd-");
        try
        {
            var port = ServerProcess.FreePort();
            // What README "Deploying" lists for production; nothing from the test suite's own settings.
            environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            environment["Storage__DataDirectory"] = data;
            environment["Security__AdminApiKey"] = RunningServer.AdminKey;
            environment["Security__EncryptionKey"] = TestSecrets.EncryptionKey;
            await using var server = ChildProcess.Start(fileName, args, workingDirectory.FullName, environment);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await WaitUntilReadyAsync(http, server, TimeSpan.FromSeconds(90));

            using (var anonymous = await http.GetAsync("/api/v1/clients", TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            }
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminKey);
            // An Ed25519 client: its key pair comes from libsodium, its secret is encrypted into SQLite.
            var created = await http.PostJsonAsync("/api/v1/clients",
                new { Name = "Published", IntegrationWebhookUrl = "https://receiver.example/hook", SigningScheme = "Ed25519" },
                TestContext.Current.CancellationToken);
            Assert.StartsWith("whpk_", (string?)created["SigningPublicKeys"]?[0], StringComparison.Ordinal);
            using (var read = await http.GetAsync($"/api/v1/clients/{(string?)created["Id"]}", TestContext.Current.CancellationToken))
            {
                var client = await ApiClientExtensions.ReadAsync(read, 200);
                Assert.Equal("Published", (string?)client["Name"]);
            }
            Assert.True(File.Exists(Path.Combine(data, "connector-events.db")));

            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(30)));
            Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(data);
            workingDirectory.Delete(recursive: true);
        }
    }

    private static async Task WaitUntilReadyAsync(HttpClient http, ChildProcess server, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Assert.False(server.HasExited, $"The published server exited before it was ready. Its output:\n{server.Output}");
            try
            {
                using var ready = await http.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The published server was not ready within {timeout}. Its output:\n{server.Output}");
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}

/// <summary>
/// Both publishes, once for the class, into a temp folder. The framework-dependent one reuses the test build
/// (<c>--no-build</c>); the self-contained one builds for linux-x64 under an artifacts folder of its own, so it never
/// writes the repository's <c>obj</c> folders while other test processes read them.
/// </summary>
public sealed class PublishedServer : IAsyncLifetime
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("ce-publish-");

    public string FrameworkDependent => Path.Combine(_work.FullName, "framework-dependent");

    public string SelfContained => Path.Combine(_work.FullName, "self-contained");

    public async ValueTask InitializeAsync()
    {
        var project = Path.Combine(Repository.Root, "src", "ConnectorEvents.Server", "ConnectorEvents.Server.csproj");
        await PublishAsync(TimeSpan.FromMinutes(5), "publish", project, "-c", Configuration, "--no-build", "-o", FrameworkDependent);
        await PublishAsync(TimeSpan.FromMinutes(15), "publish", project, "-c", Configuration, "-r", "linux-x64", "--self-contained",
            "--artifacts-path", Path.Combine(_work.FullName, "artifacts"), "-o", SelfContained);
    }

    private async Task PublishAsync(TimeSpan limit, params string[] args)
    {
        var (exitCode, output) = await ChildProcess.RunAsync(ChildProcess.Dotnet, args, _work.FullName, limit);
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', args)} exited {exitCode}:\n{output}");
    }

    public ValueTask DisposeAsync()
    {
        _work.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }

}
